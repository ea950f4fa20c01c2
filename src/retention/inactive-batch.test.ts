import { expect, it } from 'vitest';
import { describeEachEngine, type Harness, type SeededTenant, drainJobs } from '../../test/support/harness.ts';
import { recordActivity } from '../activity/events.ts';
import { listAudit } from '../audit/audit-log.ts';
import { verifyAuditLog } from '../audit/verify.ts';
import { JobLostError, type JobControl } from '../jobs/worker.ts';
import { cliActor } from '../audit/audit-log.ts';
import { Problem } from '../http/problem.ts';
import { runInactiveJob } from './inactive-job.ts';
import { runItems, startInactiveRun } from './inactive-runs.ts';
import { newContact, post, sale } from './test-support.ts';


interface World {
  t: SeededTenant;
  prospect: string;
  buyer: string;
  cultural: string;
  otherOrgActive: string;
  recent: string;
  clicked: string;
  orderId: string;
}

/** Contacts created in 2022, then the clock moved to 2026-01-15 (cutoff for 36 months: 2023-01-15). */
async function world(h: Harness): Promise<World> {
  h.clock.set('2022-01-10T09:00:00.000Z');
  const t = await h.tenant();
  const [orgA, orgB] = t.organizationIds;
  const prospect = await newContact(h, t, 'Prospero', 'Old', { email: 'prospero@old.example', organizationId: orgA });
  const buyer = await newContact(h, t, 'Bertha', 'Buyer', { email: 'bertha@old.example', mobilePhone: '+41 79 555 12 34', organizationId: orgA });
  const cultural = await newContact(h, t, 'Carl', 'Culture', { organizationId: orgB });
  const otherOrgActive = await newContact(h, t, 'Olga', 'Other', { organizationId: orgA });
  const clicked = await newContact(h, t, 'Clara', 'Clicker', { organizationId: orgA });
  const order = await post(h, t.admin.token, '/api/ticketing/orders', {
    ...sale(buyer, 'ORD-OLD', '2022-02-01T10:00:00Z', { organizationId: orgA }),
    contacts: [
      { contactId: buyer, role: 'purchase' },
      { contactId: cultural, role: 'cultural' },
    ],
    lines: [{ product: 'Match', dated: true, validityDate: '2022-03-01', amountCents: 3000, beneficiary: { firstName: 'Bene', lastName: 'Ficiarius' } }],
  });
  // Activity with another organization than the one that created the contact keeps it.
  await post(h, t.admin.token, '/api/ticketing/orders', {
    externalRef: 'ORD-B',
    organizationId: orgB,
    kind: 'reservation',
    orderedAt: '2022-02-01T10:00:00Z',
    contacts: [{ contactId: otherOrgActive, role: 'cultural' }],
    lines: [{ product: 'Opera 2025', dated: true, validityDate: '2025-06-01' }],
  });
  await h.ctx.db.transaction().execute((trx) =>
    recordActivity(trx, { institutionId: t.institutionId, contactId: clicked, organizationId: orgA, actorUserId: null, type: 'link.clicked', occurredAt: '2025-11-01T00:00:00.000Z', data: { kind: 'consent_renewal' } }),
  );
  h.clock.set('2025-02-01T09:00:00.000Z');
  const recent = await newContact(h, t, 'Rita', 'Recent');
  h.clock.set('2026-01-15T09:00:00.000Z');
  return { t, prospect, buyer, cultural, otherOrgActive, recent, clicked, orderId: order.id };
}

describeEachEngine('inactive-contact batch: simulation, execution, log retention', (h) => {
  it('simulates (nothing changes), reports, refuses bad runs, then executes the same set and ends in support-only recovery', async () => {
    const w = await world(h);
    const { t } = w;
    const hook = await h.request(t.admin.token, { method: 'POST', url: '/api/webhooks', payload: { url: 'https://downstream.example/erase', events: ['contact.anonymised', 'contact.deleted'] } });
    expect(hook.statusCode, hook.body).toBe(201);

    // Settings: seed 004's defaults.
    const settings = await h.request(t.admin.token, { method: 'GET', url: '/api/retention/settings' });
    expect(settings.json()).toEqual({ inactivityMonths: 36, simulation: true, schedule: null, logRetentionMonths: 12 });

    const started = await h.request(t.admin.token, { method: 'POST', url: '/api/retention/runs', payload: {} });
    expect(started.statusCode, started.body).toBe(202);
    const sim = started.json();
    expect(sim).toMatchObject({ mode: 'simulation', months: 36, cutoff: '2023-01-15T00:00:00.000Z', status: 'queued' });

    // Another run while this one holds the lock is refused.
    const second = await h.request(t.admin.token, { method: 'POST', url: '/api/retention/runs', payload: { execute: true } });
    expect(second.statusCode).toBe(409);
    expect(second.json().detail).toContain('holds this institution');
    const zero = await h.request(t.admin.token, { method: 'POST', url: '/api/retention/runs', payload: { months: 0 } });
    expect(zero.statusCode).toBe(400);
    expect(zero.json().errors[0].field).toBe('months');
    await expect(startInactiveRun(h.ctx, t.institutionId, { months: -3, actor: cliActor })).rejects.toMatchObject({ status: 422 });
    await expect(startInactiveRun(h.ctx, 'no-such-institution', { actor: cliActor })).rejects.toBeInstanceOf(Problem);

    await drainJobs(h);
    const done = (await h.request(t.admin.token, { method: 'GET', url: `/api/retention/runs/${sim.id}` })).json();
    expect(done.status).toBe('succeeded');
    expect(done.report.totals).toEqual({ prospectsToDelete: 1, customersToAnonymise: 2, beneficiaryNamesToAnonymise: 1 });
    expect(done.report.executed).toBeNull();
    const [orgA, orgB] = t.organizationIds;
    expect(done.report.perOrganization).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ organizationId: orgA, prospectsToDelete: 1, customersToAnonymise: 1 }),
        expect.objectContaining({ organizationId: orgB, prospectsToDelete: 0, customersToAnonymise: 1 }),
      ]),
    );
    const months = Object.fromEntries(done.report.histogram.map((b: { month: string; contacts: number }) => [b.month, b.contacts]));
    expect(months).toMatchObject({ '2022-01': 1, '2022-03': 2, '2025-02': 1, '2025-06': 1, '2025-11': 1 });
    const sample = Object.fromEntries(done.report.sample.map((s: { contactId: string }) => [s.contactId, s]));
    expect(sample[w.prospect]).toMatchObject({ outcome: 'delete', reason: 'created', recency: '2022-01-10T09:00:00.000Z' });
    expect(sample[w.buyer]).toMatchObject({ outcome: 'anonymise', reason: 'sale', recency: '2022-03-01T00:00:00.000Z' });
    expect(Object.keys(sample).sort()).toEqual([w.prospect, w.buyer, w.cultural].sort());

    // Nothing changed.
    const bertha = await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${w.buyer}` });
    expect(bertha.json()).toMatchObject({ firstName: 'Bertha', email: 'bertha@old.example' });
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${w.prospect}` })).statusCode).toBe(200);

    const csv = await h.request(t.admin.token, { method: 'GET', url: `/api/retention/runs/${sim.id}/report.csv` });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body).toContain('prospects_to_delete,1');
    expect(csv.body).toContain('customers_to_anonymise,2');
    expect(csv.body).toContain(`${w.buyer},anonymise,2022-03-01T00:00:00.000Z,sale`);
    expect(csv.body).not.toContain('Bertha');

    // A workflow run of the buyer's, visible to staff until the anonymisation.
    const wf = await post(h, t.admin.token, '/api/workflows', { name: 'Nurture', trigger: { type: 'manual' }, steps: [{ type: 'wait', wait: { days: 30 } }] });
    await post(h, t.admin.token, `/api/workflows/${wf.id}/enrollments`, { filter: { ids: [w.buyer] } }, 200);
    const runsOf = async (id: string) => (await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${id}/workflow-runs` })).json().items;
    expect(await runsOf(w.buyer)).toHaveLength(1);

    // Execution the same day touches exactly the contacts the simulation named.
    const exec = await post(h, t.admin.token, '/api/retention/runs', { execute: true }, 202);
    await drainJobs(h);
    const executed = (await h.request(t.admin.token, { method: 'GET', url: `/api/retention/runs/${exec.id}` })).json();
    expect(executed.status).toBe('succeeded');
    expect(executed.report.executed).toEqual({ deleted: 1, anonymised: 2, skippedActive: 0, beneficiaryNamesAnonymised: 1 });
    expect((await runItems(h.ctx.db, exec.id)).map((i) => i.contactId)).toEqual((await runItems(h.ctx.db, sim.id)).map((i) => i.contactId));

    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${w.prospect}` })).statusCode).toBeGreaterThanOrEqual(404);
    const stub = (await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${w.buyer}` })).json();
    expect(stub).toMatchObject({ firstName: 'Anonymised', lastName: 'Contact', email: null, mobilePhone: null });
    expect(await runsOf(w.buyer)).toEqual([]);
    const order = (await h.request(t.admin.token, { method: 'GET', url: `/api/ticketing/orders/${w.orderId}` })).json();
    expect(order.contacts.map((c: { contactId: string }) => c.contactId).sort()).toEqual([w.buyer, w.cultural].sort());
    expect(order.lines[0]).toMatchObject({ beneficiary: { firstName: 'Anonymised', lastName: 'Beneficiary' }, beneficiaryAnonymised: true, amountCents: 3000 });
    for (const id of [w.otherOrgActive, w.recent, w.clicked]) {
      expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${id}` })).json().firstName).not.toBe('Anonymised');
    }

    // One erasure webhook per contact.
    const deliveries = await h.ctx.db.selectFrom('webhook_deliveries').select(['event_type', 'payload']).where('institution_id', '=', t.institutionId).execute();
    expect(deliveries.filter((d) => d.event_type === 'contact.anonymised').map((d) => JSON.parse(d.payload).data.contactId).sort()).toEqual([w.buyer, w.cultural].sort());
    expect(deliveries.filter((d) => d.event_type === 'contact.deleted').map((d) => JSON.parse(d.payload).data.contactId)).toEqual([w.prospect]);

    // Staff no longer see the history: the entries read as shredded.
    const staffView = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: w.buyer, limit: 50 });
    expect(staffView.length).toBeGreaterThan(0);
    expect(staffView.filter((e) => e.action !== 'contact.anonymise' || e.before !== null).every((e) => e.shredded || (e.before === null && e.after === null))).toBe(true);
    expect(JSON.stringify(staffView)).not.toContain('Bertha');

    // Platform support recovers it (audited); a staff admin may not.
    const { createPlatformUser } = await import('../access/users.ts');
    const { signIn } = await import('../../test/support/sessions.ts');
    const { systemActor } = await import('../audit/audit-log.ts');
    const email = `support-${Date.now()}@lethe.example`;
    await createPlatformUser(h.ctx, { email, name: 'Support', password: 'support passphrase 123', platformRole: 'support' }, systemActor);
    const support = await signIn(h, email, 'support passphrase 123');
    const headers = { 'x-lethe-institution': t.institutionId };
    const history = await support.request({ method: 'GET', url: `/api/retention/support/contacts/${w.buyer}/history`, headers });
    expect(history.statusCode, history.body).toBe(200);
    const anonymise = history.json().items.find((e: { action: string }) => e.action === 'contact.anonymise');
    expect(anonymise.before).toMatchObject({ firstName: 'Bertha', lastName: 'Buyer', email: 'bertha@old.example' });
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/retention/support/contacts/${w.buyer}/history` })).statusCode).toBe(403);
    expect((await listAudit(h.ctx, { institutionId: t.institutionId, action: 'retention.support_read', limit: 5 })).map((e) => e.targetId)).toEqual([w.buyer]);

    // Idempotent: running again finds nobody new.
    const again = await post(h, t.admin.token, '/api/retention/runs', { execute: true }, 202);
    await drainJobs(h);
    const rerun = (await h.request(t.admin.token, { method: 'GET', url: `/api/retention/runs/${again.id}` })).json();
    expect(rerun.report.totals).toEqual({ prospectsToDelete: 0, customersToAnonymise: 0, beneficiaryNamesToAnonymise: 0 });
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);

    // After the log-retention period the scheduled job destroys the key and purges old entries; the chain still verifies.
    h.clock.set('2027-01-16T03:00:00.000Z');
    await drainJobs(h);
    h.clock.set('2027-01-17T03:00:00.000Z');
    await drainJobs(h);
    const later = await signIn(h, email, 'support passphrase 123');
    const gone = await later.request({ method: 'GET', url: `/api/retention/support/contacts/${w.buyer}/history`, headers });
    expect([404, 410]).toContain(gone.statusCode);
    expect(await h.ctx.db.selectFrom('retention_support_keys').select('subject_id').where('institution_id', '=', t.institutionId).execute()).toEqual([]);
    const remaining = await h.ctx.db.selectFrom('audit_log').select(['occurred_at']).where('chain', '=', t.institutionId).orderBy('seq').execute();
    expect(remaining.every((r) => new Date(r.occurred_at).toISOString() >= '2026-01-17')).toBe(true);
    const verified = await verifyAuditLog(h.ctx.db);
    expect(verified.problems).toEqual([]);
    expect(h.logLines.join('\n')).not.toContain('Bertha');
  });

  it('resumes after a crash between chunks without doing anything twice', async () => {
    const w = await world(h);
    const more: string[] = [];
    for (let i = 0; i < 4; i++) {
      h.clock.set('2022-01-10T09:00:00.000Z');
      const id = await newContact(h, w.t, `Extra${i}`);
      await post(h, w.t.admin.token, '/api/ticketing/orders', sale(id, `X-${i}`, '2022-01-11T00:00:00Z'));
      more.push(id);
    }
    h.clock.set('2026-01-15T09:00:00.000Z');
    const run = await startInactiveRun(h.ctx, w.t.institutionId, { execute: true, actor: cliActor });
    const job = await h.ctx.db.selectFrom('jobs').selectAll().where('id', '=', run.jobId!).executeTakeFirstOrThrow();
    let calls = 0;
    // The process "dies" after two chunks have committed: the third progress report never returns.
    const dying: JobControl = { workerId: 'w1', checkpoint: () => null, progress: async () => { if (++calls === 3) throw new JobLostError(); } };
    await expect(runInactiveJob(h.ctx, job, dying, { chunkSize: 2 })).rejects.toBeInstanceOf(JobLostError);
    const half = await runItems(h.ctx.db, run.id);
    expect(half.filter((i) => i.done !== null)).toHaveLength(4);
    const healthy: JobControl = { workerId: 'w2', checkpoint: () => null, progress: async () => {} };
    await runInactiveJob(h.ctx, job, healthy, { chunkSize: 2 });
    const items = await runItems(h.ctx.db, run.id);
    expect(items.every((i) => i.done === 'deleted' || i.done === 'anonymised')).toBe(true);
    expect(items).toHaveLength(7);
    const anonymiseEntries = await h.ctx.db.selectFrom('audit_log').select('target_id').where('chain', '=', w.t.institutionId).where('action', '=', 'contact.anonymise').execute();
    expect(anonymiseEntries.map((e) => e.target_id).sort()).toEqual([w.buyer, w.cultural, ...more].sort());
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);
  });

  it('anonymises a beneficiary name in the chunk that anonymises the last contact on its order, once, across a crash', async () => {
    const w = await world(h);
    const run = await startInactiveRun(h.ctx, w.t.institutionId, { execute: true, actor: cliActor });
    const job = await h.ctx.db.selectFrom('jobs').selectAll().where('id', '=', run.jobId!).executeTakeFirstOrThrow();
    const doneOf = async (id: string) => (await runItems(h.ctx.db, run.id)).find((i) => i.contactId === id)!.done;
    const orderLine = async () => (await h.request(w.t.admin.token, { method: 'GET', url: `/api/ticketing/orders/${w.orderId}` })).json().lines[0];
    // One contact per chunk; the process dies when exactly one of the order's two contacts is anonymised.
    const dying: JobControl = {
      workerId: 'w1',
      checkpoint: () => null,
      progress: async () => {
        if (((await doneOf(w.buyer)) === 'anonymised') !== ((await doneOf(w.cultural)) === 'anonymised')) throw new JobLostError();
      },
    };
    await expect(runInactiveJob(h.ctx, job, dying, { chunkSize: 1 })).rejects.toBeInstanceOf(JobLostError);
    expect(await orderLine()).toMatchObject({ beneficiary: { firstName: 'Bene', lastName: 'Ficiarius' }, beneficiaryAnonymised: false });

    const healthy: JobControl = { workerId: 'w2', checkpoint: () => null, progress: async () => {} };
    const result = (await runInactiveJob(h.ctx, job, healthy, { chunkSize: 1 })) as { executed: { beneficiaryNamesAnonymised: number } };
    expect(result.executed.beneficiaryNamesAnonymised).toBe(1);
    expect(await orderLine()).toMatchObject({ beneficiary: { firstName: 'Anonymised', lastName: 'Beneficiary' }, beneficiaryAnonymised: true });
    const entries = await h.ctx.db.selectFrom('audit_log').select('target_id').where('chain', '=', w.t.institutionId).where('action', '=', 'ticketing.beneficiaries_anonymise').execute();
    expect(entries).toHaveLength(1);
  });

  it('skips a contact who became active between the snapshot and its chunk (the consent-renewal click)', async () => {
    const w = await world(h);
    const run = await startInactiveRun(h.ctx, w.t.institutionId, { execute: true, actor: cliActor });
    const job = await h.ctx.db.selectFrom('jobs').selectAll().where('id', '=', run.jobId!).executeTakeFirstOrThrow();
    let first = true;
    const control: JobControl = {
      workerId: 'w',
      checkpoint: () => null,
      progress: async () => {
        if (!first) return;
        first = false;
        await h.ctx.db.transaction().execute((trx) =>
          recordActivity(trx, { institutionId: w.t.institutionId, contactId: w.prospect, organizationId: null, actorUserId: null, type: 'link.clicked', occurredAt: h.clock.now().toISOString() }),
        );
      },
    };
    await runInactiveJob(h.ctx, job, control);
    const items = Object.fromEntries((await runItems(h.ctx.db, run.id)).map((i) => [i.contactId, i.done]));
    expect(items[w.prospect]).toBe('skipped_active');
    expect((await h.request(w.t.admin.token, { method: 'GET', url: `/api/contacts/${w.prospect}` })).json().firstName).toBe('Prospero');
  });
});
