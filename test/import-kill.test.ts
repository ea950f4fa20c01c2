import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeEachEngine, type Harness } from './support/harness.ts';
import { letheBin as bin, letheEnv } from './support/processes.ts';

const ROWS = 20_000;
const CHUNK = 100;

/** Row i (0-based data row): every 997th is invalid, every 499th repeats the email of the row before it. */
function line(i: number): string {
  if (i % 997 === 996) return `Bad${i},Row,not-an-email`;
  if (i % 499 === 498) return `Again${i},Person,p${i - 1}@example.org`;
  return `P${i},Person,p${i}@example.org`;
}
const kind = (i: number) => (i % 997 === 996 ? 'invalid' : i % 499 === 498 && (i - 1) % 997 !== 996 ? 'duplicate' : 'created');
const expected = (rows: number) => {
  const counts = { created: 0, duplicate: 0, invalid: 0 };
  for (let i = 0; i < rows; i++) counts[kind(i)]++;
  return counts;
};

const envFor = (h: Harness) => letheEnv(h, { LETHE_IMPORT_CHUNK_ROWS: String(CHUNK) });

describeEachEngine('lethe import survives kill -9', (h) => {
  it('a killed import, run again, ends with exactly the rows it should have: nothing twice, nothing missing, no half-written contact', async () => {
    const t = await h.tenant();
    const file = path.join(h.database.dataDir, 'contacts.csv');
    fs.writeFileSync(file, ['First Name,Last Name,Email', ...Array.from({ length: ROWS }, (_, i) => line(i))].join('\n') + '\n');
    const args = [bin, 'import', file, '--org', t.organizationIds[0]];

    const child = spawn(process.execPath, args, { env: envFor(h), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Kill it as soon as a few chunks are committed, well before the end.
    let done = 0;
    for (let waited = 0; waited < 60_000; waited += 20) {
      const row = await h.ctx.db.selectFrom('imports').select('rows_done').where('institution_id', '=', t.institutionId).executeTakeFirst();
      done = Number(row?.rows_done ?? 0);
      if (done >= 5 * CHUNK) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    expect(done, stderr).toBeGreaterThanOrEqual(5 * CHUNK);

    const after = await h.ctx.db.selectFrom('imports').selectAll().where('institution_id', '=', t.institutionId).executeTakeFirstOrThrow();
    const committed = Number(after.rows_done);
    expect(after.status).toBe('running');
    expect(committed % CHUNK).toBe(0);
    expect(committed, 'killed before the end').toBeLessThan(ROWS);
    const countContacts = async () =>
      Number((await h.ctx.db.selectFrom('contacts').select((eb) => eb.fn.countAll().as('n')).where('institution_id', '=', t.institutionId).executeTakeFirstOrThrow()).n);
    // Exactly the committed chunks: every contact with its activity event, every invalid row with its error line.
    expect(await countContacts()).toBe(expected(committed).created);
    expect(Number(after.created_count)).toBe(expected(committed).created);
    const created = await h.ctx.db.selectFrom('activity_events').select((eb) => eb.fn.countAll().as('n')).where('institution_id', '=', t.institutionId).where('type', '=', 'contact.created').executeTakeFirstOrThrow();
    expect(Number(created.n)).toBe(expected(committed).created);
    const errorLines = await h.ctx.db.selectFrom('import_errors').select((eb) => eb.fn.countAll().as('n')).where('import_id', '=', after.id).executeTakeFirstOrThrow();
    expect(Number(errorLines.n)).toBe(expected(committed).invalid);

    // The same command again resumes and finishes.
    const rerun = spawnSync(process.execPath, args, { env: envFor(h), encoding: 'utf8', timeout: 120_000 });
    expect(rerun.status, rerun.stderr).toBe(0);
    // Row numbers are printed with thousands separators (a kill after 1,000 rows says "after row 1,001").
    expect(rerun.stderr).toContain(`Resuming import ${after.id} after row ${(committed + 1).toLocaleString('en-US')}`);
    const total = expected(ROWS);
    expect(rerun.stdout).toContain(
      `(${ROWS.toLocaleString('en-US')} rows): ${total.created.toLocaleString('en-US')} created, 0 updated, ${total.duplicate} skipped as duplicates, ${total.invalid} invalid`,
    );

    const final = await h.ctx.db.selectFrom('imports').selectAll().where('id', '=', after.id).executeTakeFirstOrThrow();
    expect(final).toMatchObject({ status: 'succeeded', rows_done: ROWS, created_count: total.created, duplicate_count: total.duplicate, invalid_count: total.invalid });
    expect(await countContacts()).toBe(total.created);
    const twice = await h.ctx.db
      .selectFrom('contacts')
      .select('email_normalized')
      .where('institution_id', '=', t.institutionId)
      .groupBy('email_normalized')
      .having((eb) => eb.fn.countAll(), '>', 1)
      .execute();
    expect(twice).toEqual([]);
    const errors = await h.ctx.db.selectFrom('import_errors').select('row_number').where('import_id', '=', after.id).orderBy('row_number').execute();
    expect(errors.map((e) => Number(e.row_number))).toEqual(Array.from({ length: ROWS }, (_, i) => i).filter((i) => kind(i) === 'invalid').map((i) => i + 2));
    expect(await h.ctx.db.selectFrom('imports').select('id').where('institution_id', '=', t.institutionId).execute()).toHaveLength(1);
  }, 180_000);

  it('reports a malformed file with the row, keeps what was imported before it, and changes nothing on a missing organization', async () => {
    const t = await h.tenant();
    const file = path.join(h.database.dataDir, 'broken.csv');
    fs.writeFileSync(file, 'First Name,Last Name,Email\nAnn,Lee,ann@example.org\nBob,"Stone,bob@example.org\nCara,Diaz,cara@example.org\n');
    const run = spawnSync(process.execPath, [bin, 'import', file, '--org', t.organizationIds[0]], { env: envFor(h), encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/quote opened at row 3 .*never closed/);
    expect(run.stderr).not.toContain('bob@example.org');
    const contacts = await h.ctx.db.selectFrom('contacts').select('email').where('institution_id', '=', t.institutionId).execute();
    expect(contacts.map((c) => c.email)).toEqual(['ann@example.org']);
    const failed = await h.ctx.db.selectFrom('imports').select(['status', 'error']).where('institution_id', '=', t.institutionId).executeTakeFirstOrThrow();
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/The 1 row\(s\) before it were imported and stay/);

    const missing = spawnSync(process.execPath, [bin, 'import', file, '--org', 'No Such Org'], { env: envFor(h), encoding: 'utf8', timeout: 60_000 });
    expect(missing.status).toBe(3);
    expect(missing.stderr).toMatch(/--org: no organization has the id or name "No Such Org"/);
  }, 120_000);
});
