import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { GroupCommitDriver, groupCommitDialect } from './group-commit.ts';
import { checkpointAlongside, checkpointInBackground, type CheckpointsAlongside } from './background-checkpoints.ts';
import type { Database } from './schema.ts';

export type EngineKind = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  kind: EngineKind;
  /** the SQLite file, for erasure checks and backups; undefined on PostgreSQL */
  sqlitePath?: string;
  /** makes erased values unrecoverable at the storage level (SQLite checkpoint; PostgreSQL vacuum) */
  compact(tables?: string[]): Promise<void>;
  /**
   * While a process serves requests: SQLite's WAL checkpoints move to a thread of their own
   * (background-checkpoints.ts). Returns the function that ends it; nothing to do on PostgreSQL.
   */
  checkpointWhileServing(): () => Promise<void>;
  /**
   * While a bulk job writes: SQLite's WAL checkpoints also run on a thread of their own, from now
   * on (background-checkpoints.ts, checkpointAlongside). Returns the function that ends it, and
   * the one the job calls between its transactions so the WAL restarts; jobs of one process share
   * the thread. Nothing to do on PostgreSQL.
   */
  checkpointAlongside(): { end(): Promise<void>; betweenTransactions(): Promise<void> };
  close(): Promise<void>;
}

// Timestamps come back as ISO strings and 64-bit counters as numbers, the same as on SQLite.
pg.types.setTypeParser(1184, (v) => new Date(v).toISOString());
pg.types.setTypeParser(1114, (v) => new Date(v + 'Z').toISOString());
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
pg.types.setTypeParser(701, (v) => Number.parseFloat(v));

/**
 * Kysely prepares every query anew; a hot path runs the same few statements thousands of times,
 * so prepared statements are reused (bounded, least recently used first out). Safe because
 * the driver (group-commit.ts) runs one query at a time on its single connection.
 */
function withStatementCache(raw: SQLite.Database, max = 500) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = raw.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

const AUTOCHECKPOINT_PAGES = 10_000;

export function openSqlite(file: string): Store {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const raw = new SQLite(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('secure_delete = ON');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('synchronous = NORMAL');
  // Fewer, larger checkpoints: each one syncs, and a write-heavy path pays for it on commit.
  raw.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  raw.pragma('cache_size = -16000');
  const driver = new GroupCommitDriver(raw, withStatementCache(raw));
  const db = new Kysely<Database>({ dialect: groupCommitDialect(driver) });
  // Several servers (tests, benchmarks) or bulk jobs of one process share one thread.
  const serving = shared(() => checkpointInBackground(file, { setAutomatic: (pages) => raw.pragma(`wal_autocheckpoint = ${pages}`) }, AUTOCHECKPOINT_PAGES));
  const alongside = shared<CheckpointsAlongside>(() => checkpointAlongside(file));
  return {
    db,
    kind: 'sqlite',
    sqlitePath: file,
    async compact() {
      await driver.outsideTransaction((connection) => connection.pragma('wal_checkpoint(TRUNCATE)'));
    },
    checkpointWhileServing: () => (file === ':memory:' ? async () => {} : serving().end),
    checkpointAlongside: () => {
      if (file === ':memory:') return noThread;
      const { end, running } = alongside();
      return { end, betweenTransactions: () => running.betweenTransactions() };
    },
    async close() {
      await serving.stopNow();
      await alongside.stopNow();
      await db.destroy();
    },
  };
}

const noThread = { end: async () => {}, betweenTransactions: async () => {} };

/** One thing started by its first user and stopped by its last: each call returns the running thing and that user's own, idempotent, end. */
function shared<T extends { stop(): Promise<void> }>(start: () => T) {
  let users = 0;
  let running: T | null = null;
  const use = () => {
    if (users++ === 0) running = start();
    let ended = false;
    const end = async () => {
      if (ended) return;
      ended = true;
      if (users > 0 && --users === 0) await stopNow();
    };
    return { running: running!, end };
  };
  const stopNow = async () => {
    const ending = running;
    running = null;
    users = 0;
    await ending?.stop();
  };
  return Object.assign(use, { stopNow });
}

export function openPostgres(url: string, poolMax = 10): Store {
  const pool = new pg.Pool({ connectionString: url, max: poolMax });
  // A dropped connection (a server restart, a failover) must not crash the process. The pool
  // reports idle clients' errors here and replaces them on next use; a client checked out at that
  // moment emits the error on itself (unhandled, that kills the process): its query or transaction
  // fails instead, and the pool discards it when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    async compact(tables) {
      for (const table of tables ?? []) await sql`vacuum ${sql.table(table)}`.execute(db);
    },
    checkpointWhileServing: () => async () => {},
    checkpointAlongside: () => noThread,
    async close() {
      await db.destroy();
    },
  };
}

export function openStore(opts: { databaseUrl?: string; dataDir: string; pgPoolMax?: number }): Store {
  return opts.databaseUrl
    ? openPostgres(opts.databaseUrl, opts.pgPoolMax)
    : openSqlite(path.join(opts.dataDir, 'lethe.db'));
}
