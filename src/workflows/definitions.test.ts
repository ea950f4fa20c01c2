import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeEachEngine, type Harness } from '../../test/support/harness.ts';
import { fieldPath } from './validate.ts';
import { runDueWorkflowSteps } from './engine.ts';

const email = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'send_email', send_email: { category: 'marketing', subject: 'Hi {{firstName}}', text, ...extra } });

export const validDefinition = {
  name: 'Ask then wait',
  trigger: { type: 'contact_created', sources: ['manual'] },
  steps: [
    email('Please opt in: {{optInUrl}}'),
    { id: 'grace', type: 'wait', wait: { days: 30 } },
    { type: 'condition', condition: { if: { optedIn: true }, then: 'end', else: 'grace_check' } },
    { id: 'grace_check', type: 'expunge', expunge: {} },
  ],
};

it('writes JSON paths the way people read them', () => {
  expect(fieldPath(['steps', 2, 'wait', 'days'])).toBe('steps[2].wait.days');
  expect(fieldPath(['notify_staff', 'to', 0])).toBe('notify_staff.to[0]');
  expect(fieldPath([])).toBe('body');
});

describeEachEngine('workflow definitions', (h: Harness) => {
  const post = (token: string, payload: unknown) => h.request(token, { method: 'POST', url: '/api/workflows', payload: payload as object });

  it('refuses each kind of invalid definition with a field error naming the step', async () => {
    const t = await h.tenant();
    const cases: [unknown[], string, RegExp][] = [
      [[email('x'), { type: 'teleport' }], 'steps[1].type', /not a known step/],
      [[email('x'), { type: 'condition', condition: { if: { optedIn: true }, then: 'nowhere' } }], 'steps[1].condition.then', /"nowhere" is not the id of a step/],
      [[email('x'), { type: 'wait', wait: { days: 1 } }, { type: 'wait', wait: { days: -1 } }], 'steps[2].wait.days', /0/],
      [[email('Hello {{nickname}}')], 'steps[0].send_email.text', /\{\{nickname\}\} is not a merge field/],
      [[email('{{links.jobs}}')], 'steps[0].send_email.text', /names no link/],
      [[email('x'), { type: 'set_attribute', set_attribute: { key: 'nope', value: 'x' } }], 'steps[1].set_attribute.key', /not a custom attribute/],
      [[{ id: 'a', ...email('x') }, { id: 'a', type: 'wait', wait: { hours: 1 } }], 'steps[1].id', /already the id/],
      [[email('x'), { type: 'notify_staff', notify_staff: { to: ['stranger@example.org'], subject: 's', text: 't' } }], 'steps[1].notify_staff.to[0]', /not the address of a user/],
      [[email('x'), { type: 'webhook', webhook: { subscriptionId: 'missing' } }], 'steps[1].webhook.subscriptionId', /not a webhook subscription/],
      [[{ type: 'wait', wait: {} }], 'steps[0].wait', /days, hours or minutes/],
      [[{ id: 'ask', ...email('x') }, { type: 'condition', condition: { if: { optedIn: false }, then: 'ask' } }], 'steps[1].condition.then', /loops back to "ask" without a wait/],
      [[{ id: 'me', type: 'condition', condition: { if: { optedIn: false }, else: 'me' } }], 'steps[0].condition.else', /loops back/],
    ];
    for (const [steps, field, message] of cases) {
      const res = await post(t.admin.token, { name: 'bad', trigger: { type: 'manual' }, steps });
      expect(res.statusCode, `${field}: ${res.body}`).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const errors = res.json().errors as { field: string; message: string }[];
      expect(errors.find((e) => e.field === field)?.message, `${field}: ${res.body}`).toMatch(message);
    }
    expect(await h.count('workflows')).toBe(0);
    // Looping back is fine when the loop waits (polling every day until the contact opts in).
    const polling = await post(t.admin.token, {
      name: 'poll',
      trigger: { type: 'manual' },
      steps: [{ id: 'day', type: 'wait', wait: { days: 1 } }, { type: 'condition', condition: { if: { optedIn: false }, then: 'day' } }],
    });
    expect(polling.statusCode, polling.body).toBe(201);
  });

  it('creates a workflow, and an edit makes a new version while running enrollments keep theirs', async () => {
    const t = await h.tenant();
    const created = await post(t.admin.token, validDefinition);
    expect(created.statusCode, created.body).toBe(201);
    const wf = created.json();
    expect(wf).toMatchObject({ name: 'Ask then wait', status: 'active', version: 1 });
    expect(wf.definition.steps.map((s: { id: string }) => s.id)).toEqual(['s1', 'grace', 's3', 'grace_check']);
    expect(wf.definition.steps[3].expunge).toEqual({ reason: 'no_consent', notify: true });

    const contact = await h.request(t.admin.token, { method: 'POST', url: '/api/contacts', payload: { firstName: 'Ada', lastName: 'Early', email: 'ada.early@example.org', source: 'manual' } });
    expect(contact.statusCode, contact.body).toBe(201);

    const edited = await h.request(t.admin.token, { method: 'PUT', url: `/api/workflows/${wf.id}`, payload: { ...validDefinition, name: 'Ask, wait longer', steps: [validDefinition.steps[0], { id: 'grace', type: 'wait', wait: { days: 60 } }] } });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ version: 2, name: 'Ask, wait longer' });

    const runs = await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${contact.json().id}/workflow-runs` });
    expect(runs.json().items).toMatchObject([{ workflowId: wf.id, version: 1, state: 'active', trigger: 'contact_created' }]);

    const bad = await h.request(t.admin.token, { method: 'PUT', url: `/api/workflows/${wf.id}`, payload: { ...validDefinition, steps: [{ type: 'wait', wait: { days: -1 } }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([expect.objectContaining({ field: 'steps[0].wait.days' })]);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/workflows/${wf.id}` })).json().version).toBe(2);

    // The run on version 1 finishes on it (expunged after 30 days); a contact created now follows version 2.
    const later = await h.request(t.admin.token, { method: 'POST', url: '/api/contacts', payload: { firstName: 'Bo', lastName: 'Later', email: 'bo.later@example.org', source: 'manual' } });
    for (let i = 0; i < 3; i++) await runDueWorkflowSteps(h.ctx);
    h.clock.advanceDays(31);
    for (let i = 0; i < 3; i++) await runDueWorkflowSteps(h.ctx);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${contact.json().id}/lifecycle` })).statusCode).toBe(410);
    const laterRuns = (await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${later.json().id}/workflow-runs` })).json().items;
    expect(laterRuns).toMatchObject([{ version: 2, state: 'active', stepId: 'end' }]);
    expect(laterRuns[0].nextRunAt).toBe(new Date(h.clock.now().getTime() + 29 * 86_400_000).toISOString());
    h.clock.advanceDays(30);
    await runDueWorkflowSteps(h.ctx);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${later.json().id}/workflow-runs` })).json().items).toMatchObject([{ state: 'completed', stepId: null }]);
  });

  it('keeps workflows to their institution and to roles that manage them', async () => {
    const t = await h.tenant();
    const wf = (await post(t.admin.token, validDefinition)).json();
    const other = await h.tenant();
    expect((await h.request(other.admin.token, { method: 'GET', url: `/api/workflows/${wf.id}` })).statusCode).toBe(404);
    expect((await h.request(other.admin.token, { method: 'POST', url: `/api/workflows/${wf.id}/pause` })).statusCode).toBe(404);
    expect((await h.request(other.admin.token, { method: 'GET', url: '/api/workflows' })).json().items).toEqual([]);
    const staff = await h.user(t, 'staff');
    expect((await h.request(staff.token, { method: 'GET', url: '/api/workflows' })).statusCode).toBe(403);
  });

  it('ships the seed 000 workflow as a template with a configurable grace period', async () => {
    const t = await h.tenant();
    const listed = await h.request(t.admin.token, { method: 'GET', url: '/api/workflow-templates' });
    expect(listed.json().items.map((i: { key: string }) => i.key)).toEqual(['opt_in_or_expunge', 'consent_renewal']);
    const res = await h.request(t.admin.token, { method: 'POST', url: '/api/workflow-templates/opt_in_or_expunge', payload: { graceDays: 14 } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().definition).toMatchObject({
      trigger: { type: 'contact_created', sources: ['bulk_import', 'manual'] },
      steps: [{ type: 'send_email' }, { type: 'wait', wait: { days: 14 } }, { type: 'condition', condition: { if: { optedIn: true }, then: 'end' } }, { type: 'expunge' }],
    });
    const bad = await h.request(t.admin.token, { method: 'POST', url: '/api/workflow-templates/opt_in_or_expunge', payload: { graceDays: -1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('graceDays');
  });

  it('documents the workflow routes in the OpenAPI document, and keeps the public pages out of it', async () => {
    const res = await h.request(null, { method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    const paths = res.json().paths;
    for (const [path, method] of [
      ['/api/workflows', 'post'],
      ['/api/workflows/{id}', 'put'],
      ['/api/workflows/{id}/enrollments', 'post'],
      ['/api/workflows/{id}/pause', 'post'],
      ['/api/contacts/{id}/workflow-runs', 'get'],
      ['/api/workflow-templates/{key}', 'post'],
    ]) {
      expect(paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(['workflows']);
    }
    expect(JSON.stringify(paths['/api/workflows'].post.requestBody)).toContain('send_email');
    expect(Object.keys(paths).filter((p) => p.startsWith('/p/'))).toEqual([]);
  });

  it('accepts the workflow the README shows', async () => {
    const t = await h.tenant();
    const readme = fs.readFileSync(path.resolve('README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Workflows and email'));
    const json = /```json\n([\s\S]*?)```/.exec(section)![1];
    const res = await post(t.admin.token, JSON.parse(json));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().definition.steps.map((s: { type: string }) => s.type)).toEqual(['send_email', 'wait', 'condition', 'expunge']);
  });
});
