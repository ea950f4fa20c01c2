import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { describeEachEngine, drainJobs, type Harness } from '../../test/support/harness.ts';
import { letheBin as bin, letheEnv } from '../../test/support/processes.ts';
import { verifyAuditLog } from '../audit/verify.ts';
import { newId } from '../ids.ts';
import { contactRow } from '../../test/support/contact-row.ts';

const CONTACTS = 3000;
const CHUNK = 50;

const envFor = (h: Harness) => letheEnv(h);

/** Contacts created in 2019 and never active since: every other one bought a ticket then. */
async function seedInactive(h: Harness, institutionId: string): Promise<void> {
  const at = '2019-03-01T00:00:00.000Z';
  for (let i = 0; i < CONTACTS; i += 500) {
    const rows = Array.from({ length: Math.min(500, CONTACTS - i) }, (_, k) => {
      const n = i + k;
      return contactRow({
        id: newId(Date.parse(at) + n),
        institution_id: institutionId,
        first_name: `Killed${n}`,
        last_name: 'Batch',
        first_name_folded: `killed${n}`,
        last_name_folded: 'batch',
        email: `killed${n}@kill.example`,
        email_normalized: `killed${n}@kill.example`,
        source: 'api',
        created_at: at,
        updated_at: at,
      });
    });
    await h.ctx.db.insertInto('contacts').values(rows).execute();
    const buyers = rows.filter((_, k) => (i + k) % 2 === 0);
    const orders = buyers.map((b) => ({ id: newId(), institution_id: institutionId, organization_id: null, external_ref: `K-${b.id}`, kind: 'sale' as const, ordered_at: at, created_at: at }));
    await h.ctx.db.insertInto('ticket_orders').values(orders).execute();
    await h.ctx.db.insertInto('ticket_order_contacts').values(orders.map((o, k) => ({ order_id: o.id, contact_id: buyers[k].id, institution_id: institutionId, role: 'purchase' as const }))).execute();
  }
}

describeEachEngine('lethe batch inactive --execute survives kill -9', (h) => {
  it('a killed execution, resumed by the worker, deletes or anonymises each contact exactly once', async () => {
    const t = await h.tenant();
    await seedInactive(h, t.institutionId);
    const slug = (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow()).slug;

    const child = spawn(process.execPath, [bin, 'batch', 'inactive', '--institution', slug, '--execute', '--chunk', String(CHUNK)], { env: envFor(h), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const handled = async () =>
      Number(
        (
          await h.ctx.db
            .selectFrom('retention_run_items as i')
            .innerJoin('retention_runs as r', 'r.id', 'i.run_id')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('r.institution_id', '=', t.institutionId)
            .where('i.done', 'is not', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
    let done = 0;
    for (let waited = 0; waited < 90_000; waited += 10) {
      done = await handled();
      if (done >= 5 * CHUNK) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await exited;
    done = await handled();
    expect(done, stderr).toBeGreaterThanOrEqual(5 * CHUNK);
    expect(done, 'killed before the end').toBeLessThan(CONTACTS);
    expect(done % CHUNK).toBe(0);

    // What committed is whole: each handled contact is gone or a stub with its audit entry; the rest untouched.
    const run = await h.ctx.db.selectFrom('retention_runs').selectAll().where('institution_id', '=', t.institutionId).executeTakeFirstOrThrow();
    expect(run.status).toBe('running');
    const anonymised = await h.ctx.db.selectFrom('anonymised_contacts').select('stub_id as contact_id').where('institution_id', '=', t.institutionId).execute();
    const remaining = Number((await h.ctx.db.selectFrom('contacts').select((eb) => eb.fn.countAll().as('n')).where('institution_id', '=', t.institutionId).executeTakeFirstOrThrow()).n);
    const deleted = CONTACTS - remaining;
    expect(deleted + anonymised.length).toBe(done);
    const stubsWithName = await h.ctx.db.selectFrom('contacts').select('id').where('id', 'in', anonymised.length ? anonymised.map((a) => a.contact_id) : ['-']).where('first_name', '!=', 'Anonymised').execute();
    expect(stubsWithName).toEqual([]);

    // The worker takes the job over once the dead process's lease has expired, and finishes it.
    h.clock.set(new Date(Date.now() + 10 * 60_000));
    await drainJobs(h);
    const finished = await h.ctx.db.selectFrom('retention_runs').selectAll().where('id', '=', run.id).executeTakeFirstOrThrow();
    expect(finished.status).toBe('succeeded');
    expect(JSON.parse(finished.report!).executed).toEqual({ deleted: CONTACTS / 2, anonymised: CONTACTS / 2, skippedActive: 0, beneficiaryNamesAnonymised: 0 });
    const entries = await h.ctx.db
      .selectFrom('audit_log')
      .select(['action', (eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.count('target_id').distinct().as('d')])
      .where('chain', '=', t.institutionId)
      .where('action', 'in', ['contact.anonymise', 'contact.delete'])
      .groupBy('action')
      .execute();
    expect(entries.map((e) => ({ action: e.action, n: Number(e.n), d: Number(e.d) })).sort((a, b) => a.action.localeCompare(b.action))).toEqual([
      { action: 'contact.anonymise', n: CONTACTS / 2, d: CONTACTS / 2 },
      { action: 'contact.delete', n: CONTACTS / 2, d: CONTACTS / 2 },
    ]);
    expect(await h.ctx.db.selectFrom('retention_locks').select('run_id').where('institution_id', '=', t.institutionId).execute()).toEqual([]);
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);
  }, 180_000);
});
