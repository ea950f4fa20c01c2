import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../db/schema.ts';
import { engineOf } from '../db/engine.ts';

/**
 * "These contacts, within this institution", written so that SQLite finds them by primary key.
 *
 * Lethe's SQLite stores carry no planner statistics (ANALYZE is not run: its samples would copy
 * indexed personal values into sqlite_stat4). Without them SQLite guesses that
 * `institution_id = ?` matches about ten rows, fewer than a list of more than ten ids, and walks a
 * tenant-led index instead of looking the ids up: each chunk of a bulk job or retention batch then
 * read its whole tenant (141 ms per 1,000 ids at 1,000,000 contacts). The unary + on SQLite keeps
 * the tenant condition a filter on the rows found; PostgreSQL plans from its own statistics.
 */
export function contactsInTenant(db: Kysely<Database>, institutionId: string, ids: readonly string[]) {
  const tenant = engineOf(db) === 'sqlite' ? sql<string>`+${sql.ref('contacts.institution_id')}` : sql.ref<string>('contacts.institution_id');
  return (eb: ExpressionBuilder<Database, 'contacts'>): Expression<SqlBool> => eb.and([eb('contacts.id', 'in', [...ids]), eb(tenant, '=', institutionId)]);
}
