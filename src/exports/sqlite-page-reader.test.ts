import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { expect, it } from 'vitest';
import { pageRows, SqlitePageReader } from './sqlite-page-reader.ts';

// A reader serves pages from one read transaction for at most a second (a commit elsewhere would
// otherwise cost every page a cold cache), and lets it go when the second is over or no page is
// asked for: a checkpoint is held back no longer than that.
it('shares a snapshot between pages for at most a second, then lets checkpoints through', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-page-reader-'));
  const file = path.join(dir, 'reader.db');
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('create table t (n integer)');
  const insert = db.prepare('insert into t (n) values (?)');
  const checkpoint = () => (db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[])[0];
  const page = { sql: 'select json_array(count(*)) from t where n > ?', parameters: [0] };
  const reader = new SqlitePageReader(file);
  try {
    insert.run(1);
    expect(pageRows(await reader.read(page))).toEqual([[1]]);
    insert.run(2);
    // Within the second, the reader still sees its snapshot, which holds the new frames back.
    expect(pageRows(await reader.read(page))).toEqual([[1]]);
    const held = checkpoint();
    expect(held.checkpointed).toBeLessThan(held.log);

    // Once the second is over the snapshot is let go (polled: a loaded machine may run the thread's timer late).
    const started = Date.now();
    let free = checkpoint();
    while (free.checkpointed < free.log && Date.now() - started < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      free = checkpoint();
    }
    expect(free.checkpointed).toBe(free.log);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(pageRows(await reader.read(page))).toEqual([[2]]);
  } finally {
    await reader.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
