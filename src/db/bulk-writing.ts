import { sql } from 'kysely';
import type { AppContext } from '../context.ts';

/**
 * SQLite settings while a bulk job or a retention batch runs (restored when it ends). A bulk change
 * touches index pages all over the name indexes: with the default page cache most are evicted dirty
 * between statements and written to the WAL again and again, and every 10,000 WAL pages a
 * checkpoint copies them into the file and syncs, inside the COMMIT that crossed the threshold.
 * A larger cache and rarer checkpoints (one at the end, which also truncates the WAL) write each
 * page fewer times.
 */
export const BULK_CACHE_KIB = 256 * 1024;
export const BULK_WAL_AUTOCHECKPOINT = 100_000;

/** Runs `work` with the bulk settings on SQLite (nothing changes on PostgreSQL), then checkpoints. */
export async function writingInBulk<T>(ctx: Pick<AppContext, 'db' | 'store'>, work: () => Promise<T>): Promise<T> {
  if (ctx.store.kind !== 'sqlite') return work();
  const read = async (name: string) => Number(Object.values((await sql.raw(`pragma ${name}`).execute(ctx.db)).rows[0] as object)[0]);
  const cache = await read('cache_size');
  const checkpoint = await read('wal_autocheckpoint');
  await sql.raw(`pragma cache_size = -${BULK_CACHE_KIB}`).execute(ctx.db);
  await sql.raw(`pragma wal_autocheckpoint = ${BULK_WAL_AUTOCHECKPOINT}`).execute(ctx.db);
  try {
    return await work();
  } finally {
    await sql.raw(`pragma cache_size = ${cache}`).execute(ctx.db);
    await sql.raw(`pragma wal_autocheckpoint = ${checkpoint}`).execute(ctx.db);
    await ctx.store.compact();
  }
}
