import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommitDriver, groupCommitDialect } from './group-commit.ts';

interface Tables {
  parents: { id: number };
  children: { id: number; parent_id: number };
}

describe('group commit on SQLite', () => {
  let dir: string;
  let file: string;
  let driver: GroupCommitDriver;
  let db: Kysely<Tables>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-group-commit-'));
    file = path.join(dir, 'g.db');
    const raw = new SQLite(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('foreign_keys = ON');
    raw.exec(`create table parents (id integer primary key);
      create table children (id integer primary key, parent_id integer not null references parents(id) deferrable initially deferred);`);
    driver = new GroupCommitDriver(raw, { prepare: (text) => raw.prepare(text) });
    db = new Kysely<Tables>({ dialect: groupCommitDialect(driver) });
  });

  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What another connection (another process) sees: only committed rows. */
  const committedParents = () => {
    const other = new SQLite(file, { readonly: true });
    try {
      return (other.prepare('select id from parents order by id').all() as { id: number }[]).map((r) => r.id);
    } finally {
      other.close();
    }
  };

  const insertParent = (id: number) => db.transaction().execute(async (trx) => {
    await trx.insertInto('parents').values({ id }).execute();
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('folds transactions that queue up behind one another into fewer commits, and each caller sees its rows committed', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    await Promise.all(ids.map(async (id) => {
      await insertParent(id);
      expect(committedParents()).toContain(id);
    }));
    expect(committedParents()).toEqual(ids);
    expect(driver.commits).toBeLessThan(ids.length);
  });

  it('a transaction that fails inside a group rolls back only its own work', async () => {
    const results = await Promise.allSettled([
      insertParent(1),
      db.transaction().execute(async (trx) => {
        await trx.insertInto('parents').values({ id: 2 }).execute();
        throw new Error('refused');
      }),
      insertParent(3),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committedParents()).toEqual([1, 3]);
  });

  it('when the COMMIT itself fails, every member of the group gets the error and nothing of the group is stored', async () => {
    await insertParent(100);
    const commitsBefore = driver.commits;
    const results = await Promise.allSettled([
      insertParent(1),
      // A deferred foreign key is only checked at COMMIT: this member passes its own savepoint.
      db.transaction().execute(async (trx) => {
        await trx.insertInto('children').values({ id: 1, parent_id: 999 }).execute();
      }),
      insertParent(2),
    ]);
    expect(driver.commits - commitsBefore).toBe(1);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(committedParents()).toEqual([100]);
    // and the connection is usable afterwards
    await insertParent(3);
    expect(committedParents()).toEqual([3, 100]);
  });

  it('a plain query that ran while a group was open answers only after that group committed', async () => {
    let readAnsweredAt = 0;
    let committedAt = 0;
    await Promise.all([
      insertParent(1).then(() => (committedAt = performance.now())),
      db.selectFrom('parents').select('id').execute().then(() => (readAnsweredAt = performance.now())),
    ]);
    expect(committedParents()).toEqual([1]);
    expect(readAnsweredAt).toBeGreaterThanOrEqual(committedAt);
  });

  it('steady traffic that keeps the connection busy cannot hold a group open: its transactions still commit', async () => {
    let stop = false;
    const reader = async () => {
      while (!stop) await db.selectFrom('parents').select('id').execute();
    };
    const readers = [reader(), reader(), reader()];
    await insertParent(1);
    expect(committedParents()).toEqual([1]);
    stop = true;
    await Promise.all(readers);
  });

  it('a checkpoint requested while transactions are in flight commits the open group first and truncates the WAL', async () => {
    const inFlight = Promise.all([1, 2, 3].map(insertParent));
    await driver.outsideTransaction((raw) => raw.pragma('wal_checkpoint(TRUNCATE)'));
    await inFlight;
    await driver.outsideTransaction((raw) => raw.pragma('wal_checkpoint(TRUNCATE)'));
    expect(fs.statSync(`${file}-wal`).size).toBe(0);
    expect(committedParents()).toEqual([1, 2, 3]);
    expect((await sql<{ n: number }>`select count(*) as n from parents`.execute(db)).rows[0]!.n).toBe(3);
  });
});
