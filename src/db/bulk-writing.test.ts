import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { BULK_CACHE_KIB, BULK_WAL_AUTOCHECKPOINT, writingInBulk } from './bulk-writing.ts';

describeEachEngine('writing in bulk', (h) => {
  const settings = async () => {
    const read = async (name: string) => Number(Object.values((await sql.raw(`pragma ${name}`).execute(h.ctx.db)).rows[0] as object)[0]);
    return { cache: await read('cache_size'), checkpoint: await read('wal_autocheckpoint'), tempStore: await read('temp_store') };
  };

  it("runs the work with the bulk settings and restores the connection's own once the last overlapping job ends (SQLite)", async () => {
    if (h.kind !== 'sqlite') {
      expect(await writingInBulk(h.ctx, async () => 'done')).toBe('done');
      return;
    }
    const own = await settings();
    const bulk = { cache: -BULK_CACHE_KIB, checkpoint: BULK_WAL_AUTOCHECKPOINT, tempStore: 2 };
    let releaseFirst!: () => void;
    const first = writingInBulk(h.ctx, () => new Promise<void>((resolve) => (releaseFirst = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await settings()).toEqual(bulk);
    // An import keeps the page cache it has; a second job ending first leaves the first one's settings in place.
    await writingInBulk(h.ctx, async () => expect((await settings()).tempStore).toBe(2), { largeCache: false });
    expect(await settings()).toEqual(bulk);
    releaseFirst();
    await first;
    expect(await settings()).toEqual(own);
    await writingInBulk(h.ctx, async () => expect(await settings()).toEqual({ ...bulk, cache: own.cache }), { largeCache: false });
    expect(await settings()).toEqual(own);
  });

  it('restores the settings when the work fails (SQLite)', async () => {
    const own = h.kind === 'sqlite' ? await settings() : null;
    await expect(writingInBulk(h.ctx, async () => Promise.reject(new Error('chunk failed')))).rejects.toThrow('chunk failed');
    if (own) expect(await settings()).toEqual(own);
  });
});
