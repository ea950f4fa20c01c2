import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine, type Harness, type SeededTenant } from '../../test/support/harness.ts';
import { MAX_STEP_ATTEMPTS, runDueWorkflowSteps, stepRetryDelayMs } from './engine.ts';
import { fireDueSchedules } from './schedule.ts';
import { dispatchDueMail, MAX_MAIL_ATTEMPTS } from '../mail/dispatcher.ts';
import { smtpTransport } from '../mail/transport.ts';

// A receiver that answers what the test says, and counts the event ids it got.
let status = 500;
const received: string[] = [];
const server = http.createServer((req, res) => {
  received.push(String(req.headers['x-lethe-event-id']));
  req.resume();
  req.on('end', () => res.writeHead(status).end());
});
let hookUrl = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function workflow(h: Harness, t: SeededTenant, definition: unknown): Promise<string> {
  const res = await h.request(t.admin.token, { method: 'POST', url: '/api/workflows', payload: definition as object });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function contact(h: Harness, t: SeededTenant, first: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await h.request(t.admin.token, { method: 'POST', url: '/api/contacts', payload: { firstName: first, lastName: 'Engine', email: `${first.toLowerCase()}.${Math.random().toString(36).slice(2, 8)}@engine.example`, source: 'api', ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

const runs = async (h: Harness, t: SeededTenant, contactId: string) => (await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${contactId}/workflow-runs` })).json().items;
const enroll = (h: Harness, t: SeededTenant, workflowId: string, ids: string[]) =>
  h.request(t.admin.token, { method: 'POST', url: `/api/workflows/${workflowId}/enrollments`, payload: { filter: { ids } } });
const mailFor = (h: Harness, contactId: string) => h.ctx.db.selectFrom('outbox_messages').selectAll().where('contact_id', '=', contactId).execute();

describeEachEngine('workflow engine', (h) => {
  it('retries a failing webhook with backoff, then shows it failed with the reason, without holding up other runs', async () => {
    const t = await h.tenant();
    const sub = await h.request(t.admin.token, { method: 'POST', url: '/api/webhooks', payload: { url: hookUrl, events: ['contact.expunged'] } });
    expect(sub.statusCode, sub.body).toBe(201);
    const hooked = await workflow(h, t, { name: 'hook', trigger: { type: 'manual' }, steps: [{ id: 'tell', type: 'webhook', webhook: { subscriptionId: sub.json().id } }] });
    const mailer = await workflow(h, t, { name: 'mail', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'transactional', subject: 'Hi', text: 'Hello {{firstName}}' } }] });
    const a = await contact(h, t, 'Hooked');
    const b = await contact(h, t, 'Mailed');
    expect((await enroll(h, t, hooked, [a])).json()).toEqual({ matched: 1, enrolled: 1 });
    expect((await enroll(h, t, hooked, [a])).json()).toEqual({ matched: 1, enrolled: 0 });
    await enroll(h, t, mailer, [b]);

    status = 500;
    await runDueWorkflowSteps(h.ctx);
    expect(await runs(h, t, b)).toMatchObject([{ state: 'completed' }]);
    let [run] = await runs(h, t, a);
    expect(run).toMatchObject({ state: 'active', attempts: 1, reason: 'tell: webhook answered HTTP 500', steps: [{ outcome: 'retry', detail: 'webhook answered HTTP 500' }] });
    expect(await runDueWorkflowSteps(h.ctx)).toBe(0); // not due again before its backoff
    for (let attempt = 1; attempt < MAX_STEP_ATTEMPTS; attempt++) {
      h.clock.advance(stepRetryDelayMs(attempt));
      await runDueWorkflowSteps(h.ctx);
    }
    [run] = await runs(h, t, a);
    expect(run).toMatchObject({ state: 'failed', attempts: MAX_STEP_ATTEMPTS, reason: 'tell: webhook answered HTTP 500' });
    expect(run.steps.map((s: { outcome: string }) => s.outcome)).toEqual([...Array(MAX_STEP_ATTEMPTS - 1).fill('retry'), 'failed']);
    // Every attempt carried the same event id, so a receiver can drop repeats.
    expect(new Set(received.slice(-MAX_STEP_ATTEMPTS))).toEqual(new Set([`${run.id}:tell`]));

    // A failed run is over: the contact can be enrolled again, and this time the receiver answers.
    status = 204;
    await enroll(h, t, hooked, [a]);
    await runDueWorkflowSteps(h.ctx);
    expect((await runs(h, t, a)).map((r: { state: string }) => r.state)).toEqual(['completed', 'failed']);
  });

  it('shows on the run what became of a step’s email: failed with the reason when SMTP is down, without holding up the run', async () => {
    const t = await h.tenant();
    const id = await workflow(h, t, { name: 'mail', trigger: { type: 'manual' }, steps: [{ id: 'hello', type: 'send_email', send_email: { category: 'transactional', subject: 'Hi', text: 'Hello {{firstName}}' } }] });
    const c = await contact(h, t, 'Unlucky');
    await enroll(h, t, id, [c]);
    await runDueWorkflowSteps(h.ctx);
    let [run] = await runs(h, t, c);
    expect(run).toMatchObject({ state: 'completed', steps: [{ stepId: 'hello', outcome: 'done', email: { status: 'pending', attempts: 0, lastError: null, sentAt: null } }] });

    // Nothing listens on port 1: every attempt is refused, retried with backoff, then given up.
    const down = smtpTransport('smtp://127.0.0.1:1');
    try {
      for (let i = 0; i < MAX_MAIL_ATTEMPTS; i++) {
        await dispatchDueMail(h.ctx, down);
        h.clock.advance(2 * 3_600_000);
      }
    } finally {
      down.close();
    }
    [run] = await runs(h, t, c);
    expect(run.steps[0].email).toMatchObject({ status: 'failed', attempts: MAX_MAIL_ATTEMPTS, sentAt: null });
    expect(run.steps[0].email.lastError).toMatch(/ECONNREFUSED|connect/i);
  });

  it('runs conditions, set_attribute, archive and staff notifications, each in the run’s history', async () => {
    const t = await h.tenant();
    await h.request(t.admin.token, { method: 'POST', url: '/api/attributes', payload: { key: 'stage', label: 'Stage', type: 'text' } });
    await h.request(t.admin.token, { method: 'POST', url: '/api/attributes', payload: { key: 'vip', label: 'VIP', type: 'boolean' } });
    const id = await workflow(h, t, {
      name: 'triage',
      trigger: { type: 'manual' },
      steps: [
        { id: 'vip', type: 'condition', condition: { if: { attribute: { key: 'vip', equals: true } }, then: 'tell', else: 'mark' } },
        { id: 'mark', type: 'set_attribute', set_attribute: { key: 'stage', value: 'dormant' } },
        { id: 'consent', type: 'condition', condition: { if: { authorization: { purpose: 'newsletter', granted: true } }, then: 'end' } },
        { id: 'shelve', type: 'archive', archive: {} },
        { id: 'stop', type: 'condition', condition: { if: { optedIn: false }, then: 'end' } },
        { id: 'tell', type: 'notify_staff', notify_staff: { to: [t.adminEmail], subject: 'VIP {{fullName}}', text: 'Look at {{contactId}} ({{attributes.stage}})' } },
      ],
    });
    const plain = await contact(h, t, 'Plain');
    const subscribed = await contact(h, t, 'Subscribed', { authorizations: { newsletter: true } });
    const vip = await contact(h, t, 'Vip', { attributes: { vip: true, stage: 'hot' } });
    await enroll(h, t, id, [plain, subscribed, vip]);
    for (let i = 0; i < 10; i++) await runDueWorkflowSteps(h.ctx);

    const stepsOf = async (c: string) => (await runs(h, t, c))[0].steps.map((s: { stepId: string; detail: string }) => `${s.stepId}: ${s.detail}`);
    expect(await stepsOf(plain)).toEqual(['vip: false → mark', 'mark: set_attribute applied', 'consent: false → shelve', 'shelve: archive applied', 'stop: true → end']);
    expect(await stepsOf(subscribed)).toEqual(['vip: false → mark', 'mark: set_attribute applied', 'consent: true → end']);
    expect(await stepsOf(vip)).toEqual(['vip: true → tell', 'tell: 1 staff notification(s) queued']);

    const lifecycle = (c: string) => h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${c}/lifecycle` });
    expect((await lifecycle(plain)).json()).toMatchObject({ archived: true, doNotEmail: true });
    expect((await lifecycle(subscribed)).json()).toMatchObject({ archived: false });
    const profile = (await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${subscribed}` })).json();
    expect(profile.attributes.stage).toBe('dormant');
    const [notice] = await mailFor(h, vip);
    expect(notice).toMatchObject({ to_address: t.adminEmail, category: 'transactional', subject: 'VIP Vip Engine', text_body: `Look at ${vip} (hot)` });
  });

  it('enrolls on contact creation, consent and attribute changes, as the trigger filters say', async () => {
    const t = await h.tenant();
    await h.request(t.admin.token, { method: 'POST', url: '/api/attributes', payload: { key: 'status', label: 'Status', type: 'text' } });
    const step = [{ type: 'wait', wait: { days: 1 } }];
    const created = await workflow(h, t, { name: 'api created', trigger: { type: 'contact_created', sources: ['api'] }, steps: step });
    const optedOut = await workflow(h, t, { name: 'opted out', trigger: { type: 'consent_changed', optIn: 'opted_out' }, steps: step });
    const newsletter = await workflow(h, t, { name: 'newsletter', trigger: { type: 'consent_changed', purpose: 'newsletter' }, steps: step });
    const status = await workflow(h, t, { name: 'status', trigger: { type: 'attribute_changed', key: 'status' }, steps: step });
    const byApi = await contact(h, t, 'Api');
    const manual = await contact(h, t, 'Manual', { source: 'manual' });
    const patch = (id: string, body: object) => h.request(t.admin.token, { method: 'PATCH', url: `/api/contacts/${id}`, payload: body });
    expect((await patch(manual, { optInStatus: 'opted_in' })).statusCode).toBe(200);
    expect((await patch(byApi, { optInStatus: 'opted_out', authorizations: { newsletter: false }, attributes: { status: 'gold' } })).statusCode).toBe(200);
    const workflowsOf = async (c: string) => (await runs(h, t, c)).map((r: { workflowId: string }) => r.workflowId).sort();
    expect(await workflowsOf(byApi)).toEqual([created, optedOut, newsletter, status].sort());
    expect(await workflowsOf(manual)).toEqual([]);

    // A paused workflow enrolls nobody and runs nothing until resumed.
    expect((await h.request(t.admin.token, { method: 'POST', url: `/api/workflows/${status}/pause` })).json()).toMatchObject({ status: 'paused', enrollments: { paused: 1 } });
    expect((await patch(manual, { attributes: { status: 'silver' } })).statusCode).toBe(200);
    expect(await workflowsOf(manual)).toEqual([]);
    await runDueWorkflowSteps(h.ctx); // the wait starts
    h.clock.advanceDays(2);
    await runDueWorkflowSteps(h.ctx); // and is over
    const states = async () => Object.fromEntries((await runs(h, t, byApi)).map((r: { workflowId: string; state: string }) => [r.workflowId, r.state]));
    expect(await states()).toMatchObject({ [created]: 'completed', [status]: 'paused' });
    expect((await enroll(h, t, status, [manual])).statusCode).toBe(409);
    await h.request(t.admin.token, { method: 'POST', url: `/api/workflows/${status}/resume` });
    await runDueWorkflowSteps(h.ctx);
    h.clock.advanceDays(2);
    await runDueWorkflowSteps(h.ctx);
    expect(await states()).toMatchObject({ [status]: 'completed' });
  });

  it('ends a run when its contact is deleted or disabled, whatever it was waiting for', async () => {
    const t = await h.tenant();
    const id = await workflow(h, t, { name: 'long wait', trigger: { type: 'manual' }, steps: [{ type: 'wait', wait: { days: 300 } }, { type: 'send_email', send_email: { category: 'transactional', subject: 's', text: 't' } }] });
    const deleted = await contact(h, t, 'Deleted');
    const disabled = await contact(h, t, 'Disabled');
    await enroll(h, t, id, [deleted, disabled]);
    await runDueWorkflowSteps(h.ctx);
    expect((await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${deleted}/delete`, payload: {} })).statusCode).toBe(200);
    expect((await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${disabled}/disable`, payload: {} })).statusCode).toBe(200);
    await runDueWorkflowSteps(h.ctx);
    const list = (await h.request(t.admin.token, { method: 'GET', url: `/api/workflows/${id}/enrollments` })).json().items;
    expect(list.find((e: { contactId: string | null }) => e.contactId === null)).toMatchObject({ state: 'ended', reason: 'the contact was deleted or expunged' });
    h.clock.advanceDays(301);
    await runDueWorkflowSteps(h.ctx);
    expect(await runs(h, t, disabled)).toMatchObject([{ state: 'ended', reason: 'the contact’s account was deleted (disabled)' }]);
    expect(await mailFor(h, disabled)).toEqual([]);
  });

  it('lets a step taken by a worker that died run once, by another worker, after its lease', async () => {
    const t = await h.tenant();
    const id = await workflow(h, t, { name: 'once', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'transactional', subject: 'once', text: 'once' } }] });
    const c = await contact(h, t, 'Once');
    await enroll(h, t, id, [c]);
    // A worker claims the step, then dies before running it: its lease holds the run for two minutes.
    await h.ctx.db.updateTable('workflow_enrollments').set({ lease_owner: 'dead-worker', lease_expires_at: new Date(h.clock.now().getTime() + 120_000).toISOString() }).where('contact_id', '=', c).execute();
    expect(await runDueWorkflowSteps(h.ctx, { workerId: 'alive' })).toBe(0);
    h.clock.advance(121_000);
    expect(await runDueWorkflowSteps(h.ctx, { workerId: 'alive' })).toBe(1);
    expect(await runDueWorkflowSteps(h.ctx, { workerId: 'alive' })).toBe(0);
    expect(await mailFor(h, c)).toHaveLength(1);
  });

  it('runs each step exactly once when several workers work side by side', async () => {
    const t = await h.tenant();
    const id = await workflow(h, t, {
      name: 'parallel',
      trigger: { type: 'manual' },
      steps: [
        { type: 'send_email', send_email: { category: 'transactional', subject: 'one', text: 'one' } },
        { type: 'send_email', send_email: { category: 'transactional', subject: 'two', text: 'two' } },
      ],
    });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await contact(h, t, `P${i}`));
    await enroll(h, t, id, ids);
    await Promise.all(['w1', 'w2', 'w3'].map((workerId) => runDueWorkflowSteps(h.ctx, { workerId, batch: 5 })));
    for (let i = 0; i < 3; i++) await runDueWorkflowSteps(h.ctx);
    const sent = await h.ctx.db.selectFrom('outbox_messages').select(['contact_id', 'subject']).where('contact_id', 'in', ids).execute();
    expect(sent).toHaveLength(80);
    expect(new Set(sent.map((m) => `${m.contact_id}:${m.subject}`)).size).toBe(80);
    const history = await h.ctx.db.selectFrom('workflow_step_runs as r').innerJoin('workflow_enrollments as e', 'e.id', 'r.enrollment_id').select('r.id').where('e.workflow_id', '=', id).execute();
    expect(history).toHaveLength(80);
  });

  it('enrolls a filtered set on a cron schedule, once per firing', async () => {
    const t = await h.tenant();
    const bad = await h.request(t.admin.token, { method: 'POST', url: '/api/workflows', payload: { name: 'x', trigger: { type: 'schedule', cron: 'every day', filter: {} }, steps: [{ type: 'wait', wait: { days: 1 } }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('trigger.cron');
    await h.request(t.admin.token, { method: 'POST', url: '/api/attributes', payload: { key: 'tier', label: 'Tier', type: 'text' } });
    const gold = await contact(h, t, 'Gold', { attributes: { tier: 'gold' } });
    await contact(h, t, 'Plain');
    const id = await workflow(h, t, {
      name: 'daily',
      trigger: { type: 'schedule', cron: '0 6 * * *', filter: { attributes: [{ key: 'tier', values: ['gold'] }] } },
      steps: [{ type: 'send_email', send_email: { category: 'marketing', subject: 'Daily', text: 'Hi {{firstName}}' } }],
    });
    expect(await fireDueSchedules(h.ctx)).toBe(0);
    h.clock.advanceDays(1);
    expect(await Promise.all([fireDueSchedules(h.ctx), fireDueSchedules(h.ctx)])).toSatisfy((n: number[]) => n[0] + n[1] === 1);
    const list = (await h.request(t.admin.token, { method: 'GET', url: `/api/workflows/${id}/enrollments` })).json().items;
    expect(list).toMatchObject([{ contactId: gold, trigger: 'schedule', state: 'active' }]);
    await runDueWorkflowSteps(h.ctx);
    h.clock.advanceDays(1);
    expect(await fireDueSchedules(h.ctx)).toBe(1);
    expect((await runs(h, t, gold)).map((r: { state: string }) => r.state)).toEqual(['active', 'completed']);
  });

  it('rolls back only the failing step of a batch: the others commit, it retries alone', async () => {
    const t = await h.tenant();
    // A database-level failure for one contact's email, in the middle of a batch.
    if (h.kind === 'sqlite') {
      await sql`create trigger fail_boom before insert on outbox_messages when new.subject = 'Hi Boom' begin select raise(abort, 'boom refused by the test'); end`.execute(h.ctx.db);
    } else {
      await sql`create function fail_boom() returns trigger language plpgsql as $$ begin if new.subject = 'Hi Boom' then raise exception 'boom refused by the test'; end if; return new; end $$`.execute(h.ctx.db);
      await sql`create trigger fail_boom before insert on outbox_messages for each row execute function fail_boom()`.execute(h.ctx.db);
    }
    try {
      const id = await workflow(h, t, { name: 'batch', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'transactional', subject: 'Hi {{firstName}}', text: 'x' } }] });
      const ids = [await contact(h, t, 'Ann'), await contact(h, t, 'Boom'), await contact(h, t, 'Cid')];
      await enroll(h, t, id, ids);
      await runDueWorkflowSteps(h.ctx);
      const [ann, boom, cid] = await Promise.all(ids.map(async (c) => (await runs(h, t, c))[0]));
      expect([ann.state, cid.state]).toEqual(['completed', 'completed']);
      expect(boom).toMatchObject({ state: 'active', attempts: 1, steps: [{ outcome: 'retry' }] });
      expect(boom.reason).toContain('boom refused by the test');
      expect(await mailFor(h, ids[1])).toEqual([]);
      expect((await mailFor(h, ids[0])).length + (await mailFor(h, ids[2])).length).toBe(2);
    } finally {
      await sql`drop trigger ${sql.raw(h.kind === 'sqlite' ? 'fail_boom' : 'fail_boom on outbox_messages')}`.execute(h.ctx.db);
    }
  });

  it('moves each run of a batch as its own step says, when runs that move differently are mixed', async () => {
    const t = await h.tenant();
    const waits = await workflow(h, t, { name: 'then wait', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'transactional', subject: 'w', text: 'w' } }, { type: 'wait', wait: { days: 1 } }] });
    const ends = await workflow(h, t, { name: 'just mail', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'transactional', subject: 'e', text: 'e' } }] });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await contact(h, t, `Mixed${i}`));
    // Enrolled alternately, so one batch holds both kinds of move side by side.
    for (const [i, c] of ids.entries()) await enroll(h, t, i % 2 ? ends : waits, [c]);
    await runDueWorkflowSteps(h.ctx);
    for (const [i, c] of ids.entries()) {
      const [run] = await runs(h, t, c);
      if (i % 2) expect(run, c).toMatchObject({ state: 'completed', stepId: null });
      else expect(run, c).toMatchObject({ state: 'active', stepId: 'end', nextRunAt: new Date(h.clock.now().getTime() + 86_400_000).toISOString() });
    }
  });

  it('runs due steps for as long as the tick may, however many: none when its time is up, every one while it lasts', async () => {
    const t = await h.tenant();
    const id = await workflow(h, t, { name: 'timed', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'transactional', subject: 't', text: 't' } }] });
    const ids = [await contact(h, t, 'Timed1'), await contact(h, t, 'Timed2'), await contact(h, t, 'Timed3')];
    await enroll(h, t, id, ids);
    await runDueWorkflowSteps(h.ctx, { limit: Infinity, forMs: 0 });
    for (const c of ids) expect((await runs(h, t, c))[0].state).toBe('active');
    // One run a batch, no count limit: the three batches all start within the tick's time.
    await runDueWorkflowSteps(h.ctx, { limit: Infinity, forMs: 60_000, batch: 1 });
    for (const c of ids) expect((await runs(h, t, c))[0].state).toBe('completed');
  });

  it('anonymises a contact (seed 004) with the retention module, and ends the run', async () => {
    const t = await h.tenant();
    const id = await workflow(h, t, { name: 'forget', trigger: { type: 'manual' }, steps: [{ type: 'anonymise', anonymise: {} }, { type: 'send_email', send_email: { category: 'transactional', subject: 's', text: 't' } }] });
    const c = await contact(h, t, 'Anonymous');
    const before = await h.ctx.db.selectFrom('contacts').select('email').where('id', '=', c).executeTakeFirstOrThrow();
    await enroll(h, t, id, [c]);
    await runDueWorkflowSteps(h.ctx);
    const row = await h.ctx.db.selectFrom('contacts').selectAll().where('id', '=', c).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ email: null, first_name: 'Anonymised' });
    expect(JSON.stringify(row)).not.toContain(before.email!);
    const [run] = (await h.request(t.admin.token, { method: 'GET', url: `/api/workflows/${id}/enrollments` })).json().items;
    expect(run).toMatchObject({ contactId: null, state: 'completed', reason: 'contact anonymised' });
    expect(await mailFor(h, c)).toEqual([]);
    // Other runs of an anonymised contact end at their next step.
    const other = await workflow(h, t, { name: 'later', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'transactional', subject: 's', text: 't' } }] });
    await h.ctx.db.insertInto('workflow_enrollments').values({ id: `e-${c}`, institution_id: t.institutionId, workflow_id: other, version: 1, contact_id: c, state: 'active', open: 1, step_id: null, next_run_at: h.clock.now().toISOString(), attempts: 0, lease_owner: null, lease_expires_at: null, trigger: 'manual', reason: null, created_at: h.clock.now().toISOString(), updated_at: h.clock.now().toISOString(), finished_at: null }).execute();
    await runDueWorkflowSteps(h.ctx);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/workflow-enrollments/e-${c}` })).json()).toMatchObject({ state: 'ended', reason: 'the contact was anonymised' });
  });
});
