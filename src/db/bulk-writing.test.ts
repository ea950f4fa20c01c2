import fs from 'node:fs';
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

  it('checkpoints on a second thread while a bulk job writes, when asked (SQLite)', async () => {
    const file = h.ctx.store.sqlitePath;
    if (h.kind !== 'sqlite' || !file) return;
    const inFile = (marker: string) => fs.readFileSync(file).includes(marker);
    const write = (marker: string) => h.ctx.db.insertInto('institutions').values({ id: marker, name: marker, slug: marker, settings: '{}', created_at: new Date().toISOString() }).execute();
    // Without the thread, a job's commits stay in the WAL until it ends (its automatic checkpoints are rare).
    await writingInBulk(h.ctx, async () => {
      await write('bulk-alone');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(inFile('bulk-alone')).toBe(false);
    });
    await writingInBulk(
      h.ctx,
      async () => {
        await write('bulk-alongside');
        for (const end = Date.now() + 5000; !inFile('bulk-alongside'); await new Promise((resolve) => setTimeout(resolve, 25))) {
          if (Date.now() > end) throw new Error('the commit never reached the database file');
        }
      },
      { checkpointAlongside: true },
    );
  });
});
