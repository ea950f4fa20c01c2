import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { pageRows, SqlitePageReader } from './sqlite-page-reader.ts';

// A reader serves pages from one read transaction for at most a second (a commit elsewhere would
// otherwise cost every page a cold cache), and lets it go when the second is over or no page is
// asked for: a checkpoint is held back no longer than that.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-page-reader-'));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('shares a snapshot between pages for at most a second, then lets checkpoints through', async () => {
  const file = path.join(dir, 'reader.db');
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('create table t (n integer)');
  const insert = db.prepare('insert into t (n) values (?)');
  const page = { sql: 'select json_array(count(*)) from t where n > ?', parameters: [0] };
  const reader = new SqlitePageReader(file);
  try {
    insert.run(1);
    expect(pageRows(await reader.read(page))).toEqual([[1]]);
    insert.run(2);
    // Within the second, the reader still sees its snapshot, which holds the new frames back.
    expect(pageRows(await reader.read(page))).toEqual([[1]]);
    const [held] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
    expect(held.checkpointed).toBeLessThan(held.log);

    await new Promise((resolve) => setTimeout(resolve, 1300));
    const [free] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
    expect(free.checkpointed).toBe(free.log);
    expect(pageRows(await reader.read(page))).toEqual([[2]]);
  } finally {
    await reader.close();
    db.close();
  }
});
