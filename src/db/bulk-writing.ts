import { sql } from 'kysely';
import type { AppContext } from '../context.ts';

/**
 * SQLite settings while a bulk job, a retention batch or an import runs (restored when it ends).
 *
 * - A bulk change touches index pages all over the name indexes: with the default page cache most
 *   are evicted dirty between statements and written to the WAL again and again, and every 10,000
 *   WAL pages a checkpoint copies them into the file and syncs, inside the COMMIT that crossed the
 *   threshold. A larger cache and rarer checkpoints (one at the end, which also truncates the WAL)
 *   write each page fewer times. (An import appends more than it rewrites: a larger cache did not
 *   speed it up, and it has a memory budget, so it keeps the default cache.)
 * - Every statement of a transaction, and the savepoint each transaction runs in (group commit),
 *   keeps a copy of each existing page it changes, to roll back to; past 64 KiB SQLite writes those
 *   copies to a file in /var/tmp, one system call per page (two pages per imported row). In memory
 *   they cost a copy: an import of 200,000 rows spent 4.3 s in the kernel instead of 7.1 s. The
 *   copies last as long as one transaction, and these transactions are chunks of at most a few
 *   thousand rows (imports 500 by default, bulk jobs 1,000, the batch 500).
 */
export const BULK_CACHE_KIB = 256 * 1024;
export const BULK_WAL_AUTOCHECKPOINT = 100_000;

/**
 * Runs `work` with the bulk settings on SQLite (nothing changes on PostgreSQL), then checkpoints.
 * `largeCache: false` keeps the connection's page cache (imports). `checkpointAlongside: true`
 * checkpoints on a second thread while the work writes (bulk jobs: see checkpointAlongside in
 * background-checkpoints.ts); the work then calls `betweenTransactions` before each of its
 * transactions, so that the WAL restarts from its beginning instead of growing (a no-op
 * otherwise). The retention batch does not use the thread: measured before the WAL restarts
 * existed, its WAL grew instead (91.5 s → 108.7 s for the anonymisation benchmark).
 */
export async function writingInBulk<T>(
  ctx: Pick<AppContext, 'db' | 'store'>,
  work: (betweenTransactions: () => Promise<void>) => Promise<T>,
  options: { largeCache?: boolean; checkpointAlongside?: boolean } = {},
): Promise<T> {
  if (ctx.store.kind !== 'sqlite') return work(async () => {});
  const pragma = async (statement: string) => (await sql.raw(`pragma ${statement}`).execute(ctx.db)).rows[0] as object | undefined;
  const read = async (name: string) => Number(Object.values((await pragma(name))!)[0]);
  // Jobs of one process share its connection: the first to start saves the settings, the last to end restores them.
  let held = holders.get(ctx.store);
  if (!held) {
    held = { count: 0, before: new Map() };
    holders.set(ctx.store, held);
    for (const name of ['wal_autocheckpoint', 'temp_store', 'cache_size']) held.before.set(name, await read(name));
  }
  held.count++;
  await pragma(`wal_autocheckpoint = ${BULK_WAL_AUTOCHECKPOINT}`);
  await pragma('temp_store = memory');
  if (options.largeCache !== false) await pragma(`cache_size = -${BULK_CACHE_KIB}`);
  const checkpoints = options.checkpointAlongside ? ctx.store.checkpointAlongside() : null;
  try {
    return await work(checkpoints?.betweenTransactions ?? (async () => {}));
  } finally {
    await checkpoints?.end();
    if (--held.count === 0) {
      holders.delete(ctx.store);
      for (const [name, value] of held.before) await pragma(`${name} = ${value}`);
      await ctx.store.compact();
    }
  }
}
const holders = new WeakMap<object, { count: number; before: Map<string, number> }>();
