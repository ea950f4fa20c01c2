import { sql } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import type { Store } from '../db/connect.ts';
import { enqueueJob, type JobRow } from '../jobs/queue.ts';

/**
 * Tables without a foreign key to contacts that still hold a contact's rows (append-only logs and
 * queues keep no foreign keys so they stay cheap to write); erasure deletes from them by id.
 */
export const unlinkedContactTables = ['activity_events', 'outbox_messages', 'idempotency_keys', 'data_keys'] as const;

/** Tables whose rows carry ids and enum values only: no page rewrite is needed after erasure. */
const piiFreeTables = new Set(['activity_events', 'bulk_job_items', 'erasure_notices']);

export interface ForeignKey {
  child: string;
  column: string;
  parent: string;
  onDelete: 'cascade' | 'set null' | 'other';
}

const foreignKeyCache = new WeakMap<Store, Promise<ForeignKey[]>>();

/** Every foreign key of the schema (its first column) with its ON DELETE action, read once per store. */
export function foreignKeys(ctx: Pick<AppContext, 'store'>, db: Db): Promise<ForeignKey[]> {
  let cached = foreignKeyCache.get(ctx.store);
  if (!cached) {
    cached = (async () => {
      const rows = (
        ctx.store.kind === 'sqlite'
          ? await sql<{ child: string; column: string; parent: string; action: string }>`select m.name as child, f."from" as "column", f."table" as parent, f.on_delete as action from sqlite_master m, pragma_foreign_key_list(m.name) f where m.type = 'table'`.execute(db)
          : await sql<{ child: string; column: string; parent: string; action: string }>`select c.conrelid::regclass::text as child, a.attname as "column", c.confrelid::regclass::text as parent, case c.confdeltype when 'c' then 'CASCADE' when 'n' then 'SET NULL' else '' end as action from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1] where c.contype = 'f'`.execute(db)
      ).rows;
      return rows.map((r) => ({ child: r.child, column: r.column, parent: r.parent, onDelete: r.action === 'CASCADE' ? 'cascade' : r.action === 'SET NULL' ? 'set null' : 'other' }));
    })();
    foreignKeyCache.set(ctx.store, cached);
  }
  return cached;
}

/**
 * Every table whose rows go when a contact row is deleted: the foreign-key closure under
 * `contacts` (notes, applications, project memberships… and their own children), read from the
 * schema so a table a later feature adds is covered without touching erasure.
 */
export async function cascadeTables(ctx: Pick<AppContext, 'store'>, db: Db): Promise<string[]> {
  const edges = (await foreignKeys(ctx, db)).filter((fk) => fk.onDelete === 'cascade');
  const found = new Set(['contacts']);
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of edges) if (found.has(e.parent) && !found.has(e.child)) (found.add(e.child), (grew = true));
  }
  return [...found].sort();
}

/**
 * Makes erased rows unrecoverable at the storage level, once their deletion has committed.
 * SQLite (secure_delete on) zeroes freed cells as it deletes; the checkpoint then copies the clean
 * pages into the database file and truncates the WAL, whose older frames still held the values.
 * ANALYZE's sample keys (sqlite_stat4) of those tables are dropped: they are copies of index keys.
 * PostgreSQL keeps deleted tuples as dead tuples until VACUUM removes them and their index
 * entries, which it does here; the bytes VACUUM leaves in the pages' free space are rewritten
 * away by the scrub (scheduleScrub).
 */
export async function completeErasure(ctx: Pick<AppContext, 'store' | 'db' | 'clock'>, tables: Iterable<string>): Promise<void> {
  const list = [...new Set(tables)].sort();
  if (ctx.store.kind === 'sqlite') {
    const stat4 = await sql<{ name: string }>`select name from sqlite_master where name = 'sqlite_stat4'`.execute(ctx.db);
    if (stat4.rows.length && list.length) await sql`delete from sqlite_stat4 where tbl in (${sql.join(list)})`.execute(ctx.db);
    await ctx.store.compact(list);
    return;
  }
  await ctx.store.compact(list);
  await scheduleScrub(ctx, list.filter((t) => !piiFreeTables.has(t)));
}

export const SCRUB_JOB_KIND = 'lifecycle.scrub';
/** When the PostgreSQL scrub runs: a quiet hour, since rewriting a table locks it while it runs. */
export const SCRUB_HOUR_UTC = 3;

/** The next scrub time after `now` (pure, so the schedule is tested by moving a clock). */
export function nextScrubAt(now: Date, hourUtc = SCRUB_HOUR_UTC): Date {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hourUtc));
  if (at.getTime() <= now.getTime()) at.setUTCDate(at.getUTCDate() + 1);
  return at;
}

/**
 * PostgreSQL only: queues (or widens) the one pending scrub job, which rewrites the tables
 * erasures touched since the last scrub (VACUUM FULL), so not even the free space inside their
 * pages keeps an erased value. Tuple-level erasure is already complete before this runs.
 */
export async function scheduleScrub(ctx: Pick<AppContext, 'db' | 'clock'>, tables: string[]): Promise<void> {
  if (tables.length === 0) return;
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const pending = await trx.selectFrom('jobs').selectAll().where('kind', '=', SCRUB_JOB_KIND).where('status', '=', 'queued').forUpdate().executeTakeFirst();
    if (pending) {
      const merged = [...new Set([...(JSON.parse(pending.payload) as { tables: string[] }).tables, ...tables])].sort();
      await trx.updateTable('jobs').set({ payload: JSON.stringify({ tables: merged }), updated_at: now.toISOString() }).where('id', '=', pending.id).execute();
      return;
    }
    await enqueueJob(trx, now.toISOString(), { institutionId: null, kind: SCRUB_JOB_KIND, payload: { tables }, runAfter: nextScrubAt(now).toISOString(), maxAttempts: 3 });
  });
}

/** The scrub job: each table rewritten in turn (ANALYZE too, so no statistics sample keeps an erased value). */
export async function runScrub(ctx: AppContext, job: Pick<JobRow, 'payload'>): Promise<{ tables: string[] }> {
  const { tables } = JSON.parse(job.payload) as { tables: string[] };
  if (ctx.store.kind !== 'postgres') return { tables: [] };
  for (const table of tables) await sql`vacuum (full, analyze) ${sql.table(table)}`.execute(ctx.db);
  return { tables };
}
