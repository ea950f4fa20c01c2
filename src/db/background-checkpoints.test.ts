import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { openSqlite, type Store } from './connect.ts';
import { migrateToLatest } from './migrate.ts';
import SQLite from 'better-sqlite3';
import { checkpointAlongside, checkpointInBackground } from './background-checkpoints.ts';

let store: Store | null = null;
let stopThread: (() => Promise<void>) | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await stopThread?.();
  await store?.close();
  store = null;
  stopThread = null;
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function freshStore(): Promise<{ store: Store; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-checkpoints-'));
  dirs.push(dir);
  const file = path.join(dir, 'lethe.db');
  store = openSqlite(file);
  await migrateToLatest(store);
  await store.compact();
  return { store, file };
}

const autocheckpoint = async (s: Store) => Number(Object.values((await sql.raw('pragma wal_autocheckpoint').execute(s.db)).rows[0] as object)[0]);
const until = async (check: () => boolean | Promise<boolean>, ms = 5000) => {
  for (const end = Date.now() + ms; !(await check()); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};
const institution = (s: Store, name: string) => s.db.insertInto('institutions').values({ id: name, name, slug: name, settings: '{}', created_at: new Date().toISOString() }).execute();

it('a thread checkpoints while the server writes, ends when writing stops, and starts again with the next write', async () => {
  const { store, file } = await freshStore();
  const setTo: number[] = [];
  const background = checkpointInBackground(file, { setAutomatic: (pages) => (setTo.push(pages), void store.db.executeQuery(sql.raw(`pragma wal_autocheckpoint = ${pages}`).compile(store.db))) }, 10_000, {
    everyMs: 20,
    idleMs: 300,
    pollMs: 20,
    busyPolls: 1,
  });
  stopThread = background.stop;
  expect(background.running()).toBe(false); // nothing written yet: no thread

  const first = `first-write-${Date.now()}`;
  await institution(store, first);
  await until(() => background.running());
  expect(await autocheckpoint(store)).toBe(0);
  // Only a checkpoint copies a committed page from the WAL into the file, and this connection's are off.
  await until(() => fs.readFileSync(file).includes(first));

  await until(() => !background.running(), 3000);
  expect(await autocheckpoint(store)).toBe(10_000);

  const second = `second-write-${Date.now()}`;
  await institution(store, second);
  await until(() => background.running());
  await until(() => fs.readFileSync(file).includes(second));
  expect(setTo).toEqual([0, 10_000, 0]);
});

it('a listening server starts it; several servers of one process share it; the last one to stop ends it', async () => {
  const { store } = await freshStore();
  const first = store.checkpointWhileServing();
  const second = store.checkpointWhileServing();
  // Sustained writing (the WAL written in consecutive looks, a second apart) starts the thread.
  let n = 0;
  await until(async () => {
    await institution(store, `writing-${n++}`);
    return (await autocheckpoint(store)) === 0;
  }, 8000);
  await first();
  await first();
  expect(await autocheckpoint(store)).toBe(0);
  await second();
  expect(await autocheckpoint(store)).toBe(10_000);
});

it('a single burst of writes (a start-up, one request) does not start the thread', async () => {
  const { store, file } = await freshStore();
  const background = checkpointInBackground(file, { setAutomatic: () => {} }, 10_000, { everyMs: 20, idleMs: 300, pollMs: 20, busyPolls: 3 });
  stopThread = background.stop;
  await institution(store, 'one-burst');
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(background.running()).toBe(false);
});

it('a bulk job’s thread checkpoints from its first write while the job’s own connection does not, and ends with the last job', async () => {
  const { store, file } = await freshStore();
  await sql.raw('pragma wal_autocheckpoint = 1000000').execute(store.db);
  const first = store.checkpointAlongside().end;
  const second = store.checkpointAlongside().end; // two jobs of one process share the thread
  const during = `bulk-write-${Date.now()}`;
  await institution(store, during);
  await until(() => fs.readFileSync(file).includes(during));
  await first();
  await first();
  const stillOne = `still-running-${Date.now()}`;
  await institution(store, stillOne);
  await until(() => fs.readFileSync(file).includes(stillOne));
  await second();
  const after = `after-the-jobs-${Date.now()}`;
  await institution(store, after);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(fs.readFileSync(file).includes(after)).toBe(false);
});

it('a job that writes without pause keeps its WAL small when it lets the WAL restart between transactions, and only then', async () => {
  const { file } = await freshStore();
  await store!.close();
  store = null;
  const walSize = () => fs.statSync(`${file}-wal`).size;
  // Back-to-back transactions of ~25 pages each: the WAL could only restart if every frame had
  // been copied when a transaction began, which a writer that never pauses does not allow.
  const writeWithout = async (between: () => Promise<void>) => {
    const db = new SQLite(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('create table if not exists filler (id integer primary key, body blob)');
    const insert = db.prepare('insert into filler (body) values (?)');
    const thread = checkpointAlongside(file, { everyMs: 5, restartFrames: 100 });
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const chunk = (n: number) =>
      db.transaction(() => {
        for (let i = 0; i < 25; i++) insert.run(Buffer.alloc(4000, n));
        // A real chunk's work takes a while inside its transaction (a bulk job's ~60 ms).
        Atomics.wait(pause, 0, 0, 3);
      })();
    let largest = 0;
    try {
      // The thread starts and copies a first few chunks while the writer pauses once.
      for (let n = 0; n < 5; n++) chunk(n);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let n = 0; n < 120; n++) {
        await between.call(thread);
        chunk(n);
        largest = Math.max(largest, walSize());
      }
    } finally {
      await thread.stop();
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
    return largest;
  };
  const frame = 4096 + 24;
  const restarting = await writeWithout(function (this: ReturnType<typeof checkpointAlongside>) {
    return this.betweenTransactions();
  });
  // 100 frames before a wait, plus what the writer adds before the thread's next report.
  expect(restarting).toBeLessThan(800 * frame);
  const growing = await writeWithout(async () => {});
  expect(growing).toBeGreaterThan(2500 * frame);
});
