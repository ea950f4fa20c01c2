import { PostgresAdapter, type Kysely } from 'kysely';

/** Which engine a Kysely instance (or transaction) talks to. */
export function engineOf(db: Kysely<any>): 'postgres' | 'sqlite' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
