import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it, vi } from 'vitest';
import { describeEachEngine, TEST_SECRET, type Harness } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { csvObjects, unzip } from '../../test/support/exports.ts';
import { exitCodes } from '../cli/errors.ts';
import { main } from '../main.ts';
import { exportsDir } from './files.ts';

/** Runs `lethe …` in-process against the harness database, as an operator would from a shell. */
async function lethe(h: Harness, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { LETHE_DATA_DIR: h.database.dataDir, LETHE_SECRET: TEST_SECRET, DATABASE_URL: h.database.url, LOG_LEVEL: 'silent' };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const exitCode = process.exitCode;
  try {
    const code = await main(args);
    return { code: process.exitCode && process.exitCode !== exitCode ? Number(process.exitCode) : code, stdout, stderr };
  } finally {
    process.exitCode = exitCode;
    out.mockRestore();
    err.mockRestore();
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  }
}

describeEachEngine('lethe export', (h) => {
  it('exports a filtered set to a file with a progress bar, and leaves no copy behind', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const api = contactsApi(h, t.admin.token);
    await api.createContact({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada.cli@example.net' });
    await api.createContact({ firstName: 'Alan', lastName: 'Turing', email: 'alan.cli@example.net' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-export-'));
    const out = path.join(dir, 'ada.zip');

    const run = await lethe(h, ['export', 'contacts', '--as', staff.email, '--q', 'ada', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Exported 1 contacts to .*ada\.zip \(\d+ bytes\)\. Export \S+ is delivered/);
    expect(run.stderr).toContain('exporting');
    expect((fs.statSync(out).mode & 0o777).toString(8)).toBe('600');
    const zip = await unzip(fs.readFileSync(out));
    expect(csvObjects(zip['contacts.csv']).map((r) => r.email)).toEqual(['ada.cli@example.net']);
    const id = /Export (\S+) is delivered/.exec(run.stdout)![1];
    expect(fs.readdirSync(exportsDir(h.ctx)).filter((f) => f.startsWith(id))).toEqual([]);

    const status = await lethe(h, ['export', 'status', id, '--as', staff.email]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('status: destroyed');
    expect(status.stdout).toMatch(/downloaded: \d{4}-/);

    const again = await lethe(h, ['export', 'contacts', '--as', staff.email, '--q', 'ada', '--out', out, '--quiet']);
    expect(again.code).toBe(exitCodes.conflict);
    expect(again.stderr).toMatch(/already exists/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('explains the limit, records requests with their rule, and shows settings', async () => {
    const t = await h.tenant();
    const slug = t.adminEmail.split('@')[1].replace('.example.org', '');
    const api = contactsApi(h, t.admin.token);
    for (const n of ['One', 'Two', 'Three']) await api.createContact({ firstName: n, lastName: 'Person' });
    const settings = await lethe(h, ['export', 'settings', '--institution', slug, '--self-serve-limit', '2']);
    expect(settings.code, settings.stderr).toBe(0);
    expect(JSON.parse(settings.stdout)).toMatchObject({ selfServeLimit: 2, linkTtlDays: 7 });
    const bad = await lethe(h, ['export', 'settings', '--institution', slug, '--link-ttl-days', 'soon']);
    expect(bad.code).toBe(exitCodes.usage);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-export-'));
    const over = await lethe(h, ['export', 'contacts', '--as', t.adminEmail, '--out', path.join(dir, 'all.zip'), '--quiet']);
    expect(over.code).toBe(exitCodes.usage);
    expect(over.stderr).toMatch(/self-serve limit/);
    expect(over.stderr).toMatch(/lethe export request/);
    expect(fs.existsSync(path.join(dir, 'all.zip'))).toBe(false);

    const refused = await lethe(h, ['export', 'request', '--as', t.adminEmail, '--organization', 'Alumni', '--reason', 'Moving on']);
    expect(refused.code).toBe(exitCodes.usage);
    expect(refused.stdout).toMatch(/refused \(rule not_team_admin\)/);
    const noReason = await lethe(h, ['export', 'request', '--as', t.adminEmail, '--organization', 'career services']);
    expect(noReason.code).toBe(exitCodes.usage);
    expect(noReason.stderr).toMatch(/reason/);
    const ok = await lethe(h, ['export', 'request', '--as', t.adminEmail, '--organization', 'Career Services', '--reason', 'Moving on']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/submitted; it is awaiting approval \(decided by the team's CSM\)/);
    const id = /Export request (\S+) submitted/.exec(ok.stdout)![1];
    const status = await lethe(h, ['export', 'status', id, '--as', t.adminEmail]);
    expect(status.stdout).toContain('status: awaiting approval');
    const unknown = await lethe(h, ['export', 'status', id, '--as', 'nobody@example.org']);
    expect(unknown.code).toBe(exitCodes.notFound);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
