import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../src/db/migrations/index.ts';

const latestMigration = Object.keys(migrations).at(-1);

const bin = path.resolve('bin/lethe.js');

interface Started {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `lethe serve` as a user would, on a free port, and waits for its "serving" line. */
function startServe(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [bin, 'serve'], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
    const poll = setInterval(() => {
      const match = /serving on (http:\/\/\S+)/.exec(out);
      if (!match) return;
      clearInterval(poll);
      clearTimeout(timer);
      // Demo credentials are printed right after the serving line.
      setTimeout(() => {
        resolve({
          url: match[1],
          output: () => out,
          stop: () =>
            new Promise<void>((done) => {
              child.removeAllListeners('exit');
              child.on('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }, 200);
    }, 50);
  });
}

describe('lethe serve (embedded SQLite, as started by npm start)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-serve-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('migrates, seeds a demo institution, prints the admin password once, and serves health', async () => {
    const first = await startServe({ LETHE_DATA_DIR: dataDir });
    try {
      const printed = /password: (\S+)/.exec(first.output());
      expect(printed, first.output()).not.toBeNull();
      expect(first.output()).toContain('admin@demo.lethe.local');
      const health = await fetch(`${first.url}/api/health`).then((r) => r.json());
      expect(health).toMatchObject({ status: 'ok', database: 'sqlite', migration: latestMigration });
      expect(fs.existsSync(path.join(dataDir, 'lethe.db'))).toBe(true);
      expect((fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toString(8)).toBe('600');
      const login = await fetch(`${first.url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@demo.lethe.local', password: printed![1] }),
      });
      expect(login.status).toBe(200);
    } finally {
      await first.stop();
    }
    const second = await startServe({ LETHE_DATA_DIR: dataDir });
    try {
      expect(second.output()).not.toContain('password:');
    } finally {
      await second.stop();
    }
  });

  it('refuses a bad setting with a message naming it', () => {
    const result = spawnSync(process.execPath, [bin, 'serve'], { env: { ...process.env, PORT: 'eighty', LETHE_DATA_DIR: dataDir }, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('refuses PostgreSQL without a shared secret, and an unreachable database, saying what to do', () => {
    const noSecret = spawnSync(process.execPath, [bin, 'serve'], {
      env: { ...process.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', LETHE_SECRET: '', LETHE_DATA_DIR: dataDir, PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(noSecret.status).toBe(2);
    expect(noSecret.stderr).toContain('LETHE_SECRET');
    const unreachable = spawnSync(process.execPath, [bin, 'serve'], {
      env: { ...process.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', LETHE_SECRET: 'x'.repeat(40), LETHE_DATA_DIR: dataDir, PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain('Cannot reach the database');
    expect(unreachable.stderr).toContain('DATABASE_URL');
  });

  it('answers an unknown command with usage and exit code 2', () => {
    const result = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8', env: { ...process.env, LETHE_DATA_DIR: dataDir } });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown command/i);
  });
});
