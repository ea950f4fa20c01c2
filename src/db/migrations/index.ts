import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.ts';
import * as m0002 from './0002_jobs_and_outbox.ts';

/** Every migration, in order. Both engines run this one list. */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_jobs_and_outbox': m0002,
};
