import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD, TEST_SECRET } from '../support/harness.ts';
import { buildLetheOnce, letheBin } from '../support/processes.ts';

/**
 * The embedded database on storage that refuses writes: a read-only file and folder, and a full
 * disk. Each command says what is wrong and what to do, and the file stays intact
 * (`PRAGMA integrity_check` = ok).
 *
 * Tests run as root, and root ignores file modes: the read-only case runs the command as the
 * unprivileged `nobody` (runuser), for whom chmod 444/555 is the real thing. The full disk is a
 * 4 MiB tmpfs mounted for the test (root only); each part is skipped, saying why, where that is
 * not possible.
 */

const asRoot = process.getuid?.() === 0;
const env = (dataDir: string) => ({ PATH: process.env.PATH ?? '', HOME: os.tmpdir(), LETHE_DATA_DIR: dataDir, LETHE_SECRET: TEST_SECRET, LOG_LEVEL: 'warn', PORT: '0', LETHE_ADMIN_PASSWORD: TEST_PASSWORD });
const lethe = (args: string[], dataDir: string, opts: { as?: string } = {}) =>
  spawnSync(opts.as ? 'runuser' : process.execPath, opts.as ? ['-u', opts.as, '--', process.execPath, letheBin, ...args] : [letheBin, ...args], {
    env: env(dataDir),
    encoding: 'utf8',
    timeout: 60_000,
  });

function integrity(file: string): string {
  const db = new SQLite(file, { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

const countContacts = (file: string) => {
  const db = new SQLite(file, { readonly: true });
  try {
    return Number((db.prepare('select count(*) as n from contacts').get() as { n: number }).n);
  } finally {
    db.close();
  }
};

/** A migrated database with one institution, the way `lethe institution create` makes it. */
function prepare(dataDir: string): void {
  const made = lethe(['institution', 'create', '--name', 'Storage', '--slug', 'storage', '--admin-email', 'admin@storage.example', '--org', 'Main'], dataDir);
  expect(made.status, made.stderr + made.stdout).toBe(0);
}

beforeAll(() => buildLetheOnce());

describe('a read-only SQLite database', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-readonly-'));
  afterAll(() => {
    fs.chmodSync(dataDir, 0o700);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('serve and import refuse with a message naming the cause; the file stays intact and unchanged', (test) => {
    const probe = asRoot ? spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(letheBin)})`]) : null;
    if (asRoot && probe?.status !== 0) return test.skip('cannot run a command as the unprivileged user nobody (runuser), and root ignores file modes');
    prepare(dataDir);
    const file = path.join(dataDir, 'lethe.db');
    const csv = path.join(os.tmpdir(), `lethe-readonly-${process.pid}.csv`);
    fs.writeFileSync(csv, 'First Name,Last Name,Email\nAnn,Lee,ann@example.org\n');
    fs.chmodSync(csv, 0o644);
    const before = fs.readFileSync(file);
    fs.chmodSync(file, 0o444);
    fs.chmodSync(dataDir, 0o555);
    const as = asRoot ? 'nobody' : undefined;
    try {
      for (const args of [['serve'], ['import', csv, '--org', 'Main']]) {
        const run = lethe(args, dataDir, { as });
        expect(run.status, `${args[0]}: ${run.stdout}${run.stderr}`).toBe(1);
        expect(run.stderr).toContain('Cannot write to the database');
        expect(run.stderr).toContain('write access to the database file and to its folder');
        expect(run.stderr).not.toMatch(/at .*\.(ts|js):\d+/);
      }
    } finally {
      fs.rmSync(csv, { force: true });
    }
    expect(integrity(file)).toBe('ok');
    expect(fs.readFileSync(file).equals(before), 'the file is byte for byte what it was').toBe(true);
    expect(countContacts(file)).toBe(0);
  }, 60_000);
});

describe('a full disk under the SQLite database', () => {
  const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-fulldisk-'));
  let mounted = false;
  let skipReason = '';
  beforeAll(() => {
    if (!asRoot) skipReason = 'mounting a small tmpfs needs root';
    else {
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { stdio: 'pipe' });
        mounted = true;
      } catch (error) {
        skipReason = `could not mount a 4 MiB tmpfs: ${(error as Error).message.split('\n')[0]}`;
      }
    }
    if (skipReason) console.warn(`*** full-disk test SKIPPED: ${skipReason}`);
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', ['-l', mountPoint]);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });

  it('an import that fills the disk stops with a clear message; what it committed is whole and the file intact', (test) => {
    if (!mounted) return test.skip(skipReason);
    prepare(mountPoint);
    const file = path.join(mountPoint, 'lethe.db');
    const ROWS = 15_000;
    const csv = path.join(os.tmpdir(), `lethe-fulldisk-${process.pid}.csv`);
    fs.writeFileSync(csv, ['First Name,Last Name,Email', ...Array.from({ length: ROWS }, (_, i) => `Person${i},Filling${i},person${i}.fills.the.disk@example.org`)].join('\n') + '\n');
    try {
      const run = spawnSync(process.execPath, [letheBin, 'import', csv, '--org', 'Main'], { env: { ...env(mountPoint), LETHE_IMPORT_CHUNK_ROWS: '500' }, encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toContain('The disk holding the database is full');
      expect(run.stderr).toContain('rolled back');
      expect(run.stderr).not.toMatch(/at .*\.(ts|js):\d+/);
    } finally {
      fs.rmSync(csv, { force: true });
    }
    expect(integrity(file)).toBe('ok');
    // Whole chunks only: every contact the import created is in a committed chunk.
    const db = new SQLite(file, { readonly: true });
    try {
      const imp = db.prepare('select rows_done, created_count from imports').get() as { rows_done: number; created_count: number };
      const contacts = Number((db.prepare('select count(*) as n from contacts').get() as { n: number }).n);
      expect(imp.rows_done % 500).toBe(0);
      expect(contacts).toBe(imp.created_count);
      expect(contacts).toBe(imp.rows_done);
      expect(contacts).toBeLessThan(ROWS);
    } finally {
      db.close();
    }
  }, 60_000);
});
