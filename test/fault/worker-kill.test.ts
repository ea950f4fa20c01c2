import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type Harness } from '../support/harness.ts';
import { startSmtpSink } from '../support/smtp.ts';
import { buildLetheOnce, killAllLethe, letheEnv, sleep, startWorkerProcess, waitUntil, type LetheProcess } from '../support/processes.ts';
import { insertContacts } from '../support/seed-contacts.ts';
import { download, unzip, csvObjects, tokenIn } from '../support/exports.ts';
import { startBulkJob } from '../../src/lifecycle/bulk/bulk-job.ts';
import { insertEnrollments } from '../../src/workflows/triggers.ts';
import { exportsDir } from '../../src/exports/files.ts';
import { updateExportSettings } from '../../src/exports/settings.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';

/**
 * kill -9 of a `lethe worker` process in the middle of a bulk update, an export and a workflow
 * step that sends email; then a new worker: each finishes with exact counts, nothing done twice
 * (mail counted at a real SMTP server), nothing lost. The import and the retention batch have
 * their own kill tests (test/import-kill.test.ts, src/retention/batch-kill.test.ts).
 *
 * A dead worker's leases (1–2 minutes) would expire by themselves; instead of sleeping, each test
 * moves them into the past, which is what the passing of that time does.
 */

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
  buildLetheOnce();
});
afterAll(async () => {
  await killAllLethe();
  smtp.release();
  await smtp.close();
});

const PAST = '2000-01-01T00:00:00.000Z';
async function expireLeases(h: Harness): Promise<void> {
  await h.ctx.db.updateTable('jobs').set({ lease_expires_at: PAST }).where('status', '=', 'running').execute();
  await h.ctx.db.updateTable('outbox_messages').set({ lease_expires_at: PAST }).where('status', '=', 'sending').execute();
  await h.ctx.db.updateTable('workflow_enrollments').set({ lease_expires_at: PAST }).where('lease_expires_at', 'is not', null).execute();
}

const count = (row: { n: unknown } | undefined) => Number(row?.n ?? 0);

describeEachEngine('kill -9 of a lethe worker, then a new one', (h) => {
  const worker = () => startWorkerProcess(letheEnv(h, { SMTP_URL: `${smtp.url}?pool=true`, LOG_LEVEL: 'error' }));
  let running: LetheProcess | null = null;
  afterAll(async () => running?.stop());

  it('(a) a bulk update: every contact changed once, with one audit entry each', async () => {
    const CONTACTS = 1500;
    const CHUNK = 50;
    const t = await h.tenant();
    await insertContacts(h.ctx.db, t.institutionId, CONTACTS, { prefix: 'bulk', createdAt: h.clock.now().toISOString() });
    running = await worker();
    const { jobId } = await startBulkJob(
      h.ctx,
      t.institutionId,
      { viewer: { userId: null, seeStaffOnly: true, seeAllOwners: true }, actor: { userId: t.adminUserId, label: `user:${t.adminUserId}` }, via: 'bulk' },
      {},
      { action: 'update', visibility: 'staff_only' },
      { chunk: CHUNK },
    );
    const progress = async () => (await h.ctx.db.selectFrom('jobs').select(['progress_done', 'status']).where('id', '=', jobId).executeTakeFirstOrThrow());
    await waitUntil('a few committed chunks', async () => Number((await progress()).progress_done) >= 3 * CHUNK, { everyMs: 5 });
    await running.kill9();

    const atKill = await progress();
    const done = Number(atKill.progress_done);
    expect(atKill.status).toBe('running');
    expect(done, 'killed before the end').toBeLessThan(CONTACTS);
    expect(done % CHUNK).toBe(0);
    const changed = async () => count(await h.ctx.db.selectFrom('contacts').select((eb) => eb.fn.countAll().as('n')).where('institution_id', '=', t.institutionId).where('visibility', '=', 'staff_only').executeTakeFirst());
    const audited = async () =>
      h.ctx.db
        .selectFrom('audit_log')
        .select([(eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.count('target_id').distinct().as('d')])
        .where('chain', '=', t.institutionId)
        .where('action', '=', 'contact.bulk_update')
        .executeTakeFirstOrThrow();
    // Whole chunks only: the committed ones changed, with their audit entries; the rest untouched.
    expect(await changed()).toBe(done);
    expect(count(await audited())).toBe(done);

    await expireLeases(h);
    running = await worker();
    await waitUntil('the resumed job to finish', async () => (await progress()).status === 'succeeded', { timeoutMs: 60_000, everyMs: 50 });
    await running.stop();
    const job = await h.ctx.db.selectFrom('jobs').select(['result', 'attempts']).where('id', '=', jobId).executeTakeFirstOrThrow();
    expect(job.attempts).toBe(2);
    expect(JSON.parse(job.result!)).toMatchObject({ total: CONTACTS, changed: CONTACTS, unchanged: 0, refused: 0 });
    expect(await changed()).toBe(CONTACTS);
    const entries = await audited();
    expect([Number(entries.n), Number(entries.d)]).toEqual([CONTACTS, CONTACTS]);
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);
  }, 90_000);

  it('(b) an export: one complete file, one link mailed once, nothing left of the killed attempt', async () => {
    const CONTACTS = 10_000;
    const t = await h.tenant();
    await updateExportSettings(h.ctx.db, t.institutionId, { selfServeLimit: 100_000 });
    await insertContacts(h.ctx.db, t.institutionId, CONTACTS, { prefix: 'exp', createdAt: h.clock.now().toISOString(), organizationId: t.organizationIds[0] });
    const mailsBefore = smtp.received.length;
    running = await worker();
    const created = await h.request(t.admin.token, { method: 'POST', url: '/api/exports', payload: { scope: { type: 'contacts', filters: { organizationId: t.organizationIds[0] } } } });
    expect(created.statusCode, created.body).toBe(202);
    const { id } = created.json() as { id: string };
    const parts = () => (fs.existsSync(exportsDir(h.ctx)) ? fs.readdirSync(exportsDir(h.ctx)).filter((f) => f.startsWith(id) && f.endsWith('.part')) : []);
    // Killed while the file is being written.
    await waitUntil('the export file to be written', () => parts().some((f) => fs.statSync(`${exportsDir(h.ctx)}/${f}`).size > 0), { everyMs: 2 });
    await running.kill9();
    const atKill = await h.ctx.db.selectFrom('exports').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    expect(atKill.status, 'killed before the end').toBe('producing');
    expect(parts()).toHaveLength(1);

    await expireLeases(h);
    running = await worker();
    await waitUntil('the export to be ready and its link mailed', async () => {
      const row = await h.ctx.db.selectFrom('exports').select('status').where('id', '=', id).executeTakeFirstOrThrow();
      const sent = await h.ctx.db.selectFrom('outbox_messages').select('id').where('institution_id', '=', t.institutionId).where('status', 'in', ['pending', 'sending']).executeTakeFirst();
      return row.status === 'ready' && !sent;
    }, { timeoutMs: 60_000, everyMs: 50 });
    await running.stop();

    expect(parts(), 'the killed attempt’s file was removed').toEqual([]);
    const mails = smtp.received.slice(mailsBefore).filter((m) => m.to.includes(t.adminEmail));
    expect(mails, 'one link, sent once').toHaveLength(1);
    const res = await download(h, tokenIn(mails[0].text));
    expect(res.statusCode).toBe(200);
    const files = await unzip(res.rawPayload);
    const rows = csvObjects(files['contacts.csv']);
    expect(rows).toHaveLength(CONTACTS);
    expect(new Set(rows.map((r) => r.email)).size).toBe(CONTACTS);
    const transitions = await h.ctx.db.selectFrom('audit_log').select('action').where('chain', '=', t.institutionId).where('target_id', '=', id).orderBy('seq').execute();
    expect(transitions.filter((a) => a.action === 'export.ready')).toHaveLength(1);
    const job = await h.ctx.db.selectFrom('jobs').select(['status', 'attempts']).where('id', '=', created.json().jobId).executeTakeFirstOrThrow();
    expect(job).toEqual({ status: 'succeeded', attempts: 2 });
  }, 90_000);

  it('(c) workflow steps that send email: every step once, every message received once', async () => {
    const CONTACTS = 120;
    const t = await h.tenant();
    const wf = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/workflows',
      payload: {
        name: 'two mails',
        trigger: { type: 'manual' },
        steps: [
          { type: 'send_email', send_email: { category: 'transactional', subject: 'kill first {{contactId}}', text: 'one' } },
          { type: 'send_email', send_email: { category: 'transactional', subject: 'kill second {{contactId}}', text: 'two' } },
        ],
      },
    });
    expect(wf.statusCode, wf.body).toBe(201);
    const ids = await insertContacts(h.ctx.db, t.institutionId, CONTACTS, { prefix: 'wf', domain: `${h.kind}.kill.example`, createdAt: h.clock.now().toISOString() });
    await insertEnrollments(h.ctx.db, ids.map((contactId) => ({ institutionId: t.institutionId, workflowId: wf.json().id, version: 1, contactId, trigger: 'manual', at: h.clock.now().toISOString() })));
    const ours = () => smtp.received.filter((m) => m.to.endsWith(`@${h.kind}.kill.example`));
    running = await worker();
    await waitUntil('a third of the mail to arrive', () => ours().length >= (CONTACTS * 2) / 3, { everyMs: 5 });
    // The SMTP server stops answering: the worker is now killed with messages on the wire, which a
    // real server discards when the connection drops (never acknowledged, so never delivered).
    smtp.hold();
    await waitUntil('messages on the wire', () => smtp.heldCount() > 0, { timeoutMs: 10_000, everyMs: 5 });
    await sleep(200); // messages acknowledged just before the hold get their "sent" recorded
    await running.kill9();
    smtp.release();
    const delivered = ours().length;
    expect(delivered, 'killed before the end').toBeLessThan(CONTACTS * 2);
    const stepRuns = async () =>
      count(
        await h.ctx.db
          .selectFrom('workflow_step_runs as r')
          .innerJoin('workflow_enrollments as e', 'e.id', 'r.enrollment_id')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('e.institution_id', '=', t.institutionId)
          .executeTakeFirst(),
      );
    const queued = async () => count(await h.ctx.db.selectFrom('outbox_messages').select((eb) => eb.fn.countAll().as('n')).where('institution_id', '=', t.institutionId).executeTakeFirst());
    // Each step that ran wrote exactly its one message, in its own transaction.
    expect(await queued()).toBe(await stepRuns());

    await expireLeases(h);
    running = await worker();
    await waitUntil('every enrollment completed and its mail sent', async () => {
      const open = await h.ctx.db.selectFrom('workflow_enrollments').select('id').where('institution_id', '=', t.institutionId).where('state', '=', 'active').executeTakeFirst();
      const unsent = await h.ctx.db.selectFrom('outbox_messages').select('id').where('institution_id', '=', t.institutionId).where('status', '!=', 'sent').executeTakeFirst();
      return !open && !unsent;
    }, { timeoutMs: 60_000, everyMs: 50 });
    await running.stop();

    expect(await stepRuns()).toBe(CONTACTS * 2);
    expect(await queued()).toBe(CONTACTS * 2);
    const got = ours();
    expect(got).toHaveLength(CONTACTS * 2);
    expect(new Set(got.map((m) => m.messageId)).size).toBe(CONTACTS * 2);
    expect(new Set(got.map((m) => m.subject)).size).toBe(CONTACTS * 2);
  }, 90_000);
});
