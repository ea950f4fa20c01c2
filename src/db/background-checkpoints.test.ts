import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { openSqlite, type Store } from './connect.ts';
import { migrateToLatest } from './migrate.ts';

let store: Store | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

async function freshStore(): Promise<{ store: Store; file: string }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-checkpoints-')), 'lethe.db');
  store = openSqlite(file);
  await migrateToLatest(store);
  await store.compact();
  return { store, file };
}

const autocheckpoint = async (s: Store) => Number(Object.values((await sql.raw('pragma wal_autocheckpoint').execute(s.db)).rows[0] as object)[0]);
const until = async (check: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; !check(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

it('while serving, the WAL reaches the database file through the checkpoint thread, not the serving connection', async () => {
  const { store, file } = await freshStore();
  expect(await autocheckpoint(store)).toBe(10_000);
  const stop = store.checkpointWhileServing();
  expect(await autocheckpoint(store)).toBe(0);

  const marker = `checkpointed-by-the-thread-${Date.now()}`;
  await store.db.insertInto('institutions').values({ id: 'i-1', name: marker, slug: 'i-1', settings: '{}', created_at: new Date().toISOString() }).execute();
  // Only a checkpoint copies a committed page from the WAL into the file; this connection makes none.
  await until(() => fs.readFileSync(file).includes(marker));

  await stop();
  expect(await autocheckpoint(store)).toBe(10_000);
});

it('several servers of one process share one thread, which ends with the last of them', async () => {
  const { store } = await freshStore();
  const first = store.checkpointWhileServing();
  const second = store.checkpointWhileServing();
  await first();
  await first();
  expect(await autocheckpoint(store)).toBe(0);
  await second();
  expect(await autocheckpoint(store)).toBe(10_000);
});
