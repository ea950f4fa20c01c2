import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.ts';
import * as m0002 from './0002_jobs_and_outbox.ts';
import * as m0003 from './0003_lifecycle.ts';
import * as m0004 from './0004_applications.ts';
import * as m0005 from './0005_imports.ts';
import * as m0006 from './0006_exports.ts';
import * as m0007 from './0007_workflows.ts';
import * as m0008 from './0008_retention.ts';
import * as m0009 from './0009_rate_limits.ts';
import * as m0010 from './0010_retention_batch_indexes.ts';
import * as m0011 from './0011_contacts_created_organization.ts';
import * as m0012 from './0012_directory_indexes_without_visibility.ts';

/** Every migration, in order. Both engines run this one list. */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_jobs_and_outbox': m0002,
  '0003_lifecycle': m0003,
  '0004_applications': m0004,
  '0005_imports': m0005,
  '0006_exports': m0006,
  '0007_workflows': m0007,
  '0008_retention': m0008,
  '0009_rate_limits': m0009,
  '0010_retention_batch_indexes': m0010,
  '0011_contacts_created_organization': m0011,
  '0012_directory_indexes_without_visibility': m0012,
};
