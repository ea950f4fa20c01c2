import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Store } from './db/connect.ts';
import type { Database } from './db/schema.ts';
import type { ServerSecrets } from './security/server-secret.ts';

/** What every service needs, passed explicitly so tests can swap the clock and the store. */
export interface AppContext {
  config: Config;
  store: Store;
  db: Kysely<Database>;
  clock: Clock;
  secrets: ServerSecrets;
  log: Logger;
}

/** A query runner: the database itself or an open transaction. */
export type Db = Kysely<Database>;

export function nowIso(ctx: Pick<AppContext, 'clock'>): string {
  return ctx.clock.now().toISOString();
}
