import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.ts';

/**
 * Rate limits and sign-in lockout shared by every process on the database (src/security/rate-limits.ts).
 * `key` is a keyed hash of what is counted (an address, an email…), never the value itself; rows
 * expire and are purged, so the table holds only the current windows.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('rate_limit_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('window_start', t.timestamp, (c) => c.notNull())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addColumn('locked_until', t.timestamp)
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rate_limit_counters_expiry').on('rate_limit_counters').columns(['expires_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limit_counters').execute();
}
