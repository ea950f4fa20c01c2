import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { openContext } from '../src/runtime.ts';
import { createInstitution } from '../src/access/institutions.ts';
import { systemActor } from '../src/audit/audit-log.ts';
import { verifyAuditLog } from '../src/audit/verify.ts';
import { createContact } from '../src/contacts/contacts.ts';
import { systemViewer } from '../src/contacts/visibility.ts';
import type { AppContext } from '../src/context.ts';

const bin = path.resolve('bin/lethe.js');
const dirs: string[] = [];
const tempDir = (name: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lethe-${name}-`));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Runs the real `lethe` binary, as an operator would. */
function lethe(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [bin, ...args], { env: { ...inherited, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

async function open(dataDir: string): Promise<AppContext> {
  return openContext(loadConfig({ LETHE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }) });
}

async function addContacts(ctx: AppContext, institutionId: string, from: number, count: number) {
  for (let i = from; i < from + count; i++) {
    await createContact(ctx, institutionId, { viewer: systemViewer, actor: systemActor, organizationId: null, viaToken: true }, { firstName: 'Backed', lastName: `Up-${i}`, email: `backed.up.${i}@example.org` });
  }
}

const count = async (ctx: AppContext, table: 'contacts' | 'audit_log' | 'data_keys') =>
  Number((await ctx.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('lethe backup and lethe restore (embedded SQLite)', () => {
  it('backs up while the server keeps writing, and restores to a database with the same rows, an intact audit chain and readable keys', async () => {
    const live = tempDir('live');
    const ctx = await open(live);
    const tenant = await createInstitution(ctx, { name: 'Backed Up', slug: 'backed-up', organizations: [{ name: 'Org', tier: 'enterprise', emailDomains: [] }], admin: { email: 'admin@backed-up.example', name: 'Admin', password: 'backup-password-123' } }, systemActor);
    await addContacts(ctx, tenant.institutionId, 0, 200);

    const file = path.join(tempDir('backups'), 'lethe-backup.db');
    const writing = addContacts(ctx, tenant.institutionId, 200, 100);
    const backup = await lethe(['backup', file], { LETHE_DATA_DIR: live });
    await writing;
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toContain(`Backup written to ${file}`);
    expect(fs.existsSync(`${file}.partial`)).toBe(false);
    expect((await lethe(['backup', file], { LETHE_DATA_DIR: live })).code).toBe(4);
    await ctx.store.close();

    const restored = tempDir('restored');
    fs.copyFileSync(path.join(live, 'secret.key'), path.join(restored, 'secret.key'));
    const restore = await lethe(['restore', file], { LETHE_DATA_DIR: restored });
    expect(restore.code, restore.stderr).toBe(0);

    const back = await open(restored);
    try {
      const contacts = await count(back, 'contacts');
      // Whatever had committed when the backup started, at least the first 200, each with its audit entry and key.
      expect(contacts).toBeGreaterThanOrEqual(200);
      expect(contacts).toBeLessThanOrEqual(300);
      expect(await count(back, 'data_keys')).toBeGreaterThanOrEqual(contacts);
      expect((await verifyAuditLog(back.db)).ok).toBe(true);
      const someone = await back.db.selectFrom('contacts').select(['email']).where('last_name', '=', 'Up-7').executeTakeFirstOrThrow();
      expect(someone.email).toBe('backed.up.7@example.org');
    } finally {
      await back.store.close();
    }
  }, 120_000);

  it('refuses, changing nothing: an existing database without --force, a missing or different secret, a file that is not a Lethe backup', async () => {
    const live = tempDir('live2');
    const ctx = await open(live);
    await createInstitution(ctx, { name: 'Kept', slug: 'kept', organizations: [{ name: 'Org', tier: 'free', emailDomains: [] }], admin: { email: 'admin@kept.example', name: 'Admin', password: 'backup-password-123' } }, systemActor);
    await ctx.store.close();
    const file = path.join(tempDir('backups2'), 'b.db');
    expect((await lethe(['backup', file], { LETHE_DATA_DIR: live })).code).toBe(0);

    const existing = await lethe(['restore', file], { LETHE_DATA_DIR: live });
    expect(existing.code).toBe(4);
    expect(existing.stderr).toContain('--force');

    const noSecret = tempDir('nosecret');
    const missing = await lethe(['restore', file], { LETHE_DATA_DIR: noSecret });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No server secret');
    expect(fs.existsSync(path.join(noSecret, 'lethe.db'))).toBe(false);
    expect(fs.existsSync(path.join(noSecret, 'secret.key'))).toBe(false);

    const wrong = await lethe(['restore', file], { LETHE_DATA_DIR: noSecret, LETHE_SECRET: 'f'.repeat(64) });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('different server secret');
    expect(fs.existsSync(path.join(noSecret, 'lethe.db'))).toBe(false);

    const notADatabase = path.join(noSecret, 'notes.txt');
    fs.writeFileSync(notADatabase, 'this is not a database\n'.repeat(200));
    const bad = await lethe(['restore', notADatabase], { LETHE_DATA_DIR: live, LETHE_SECRET: 'f'.repeat(64) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a SQLite database');

    const before = fs.statSync(path.join(live, 'lethe.db')).mtimeMs;
    const forced = await lethe(['restore', file, '--force'], { LETHE_DATA_DIR: live });
    expect(forced.code, forced.stderr).toBe(0);
    expect(fs.statSync(path.join(live, 'lethe.db')).mtimeMs).toBeGreaterThanOrEqual(before);
  }, 180_000);

  it('on PostgreSQL, says to use pg_dump and pg_restore', async () => {
    const res = await lethe(['backup', path.join(tempDir('pg'), 'x.dump')], { DATABASE_URL: 'postgres://127.0.0.1:5432/none', LETHE_SECRET: 'a'.repeat(64) });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('pg_dump --format=custom');
    expect(res.stderr).toContain('pg_restore');
  });
});
