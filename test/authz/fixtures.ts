import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Harness, SeededTenant } from '../support/harness.ts';
import { work } from '../support/exports.ts';

const rnd = () => randomBytes(4).toString('hex');

/**
 * One institution with a real record behind every id a route takes, so that calls the matrix
 * allows reach real handlers. Everything is made through the API as the institution's admin.
 */
export interface Fixtures {
  t: SeededTenant;
  slug: string;
  contactId: string;
  noteId: string;
  meetingId: string;
  taskId: string;
  attributeId: string;
  employerId: string;
  projectId: string;
  sequenceId: string;
  sequenceEnrollmentId: string;
  formId: string;
  webhookId: string;
  workflowId: string;
  workflowDefinition: Record<string, unknown>;
  workflowEnrollmentId: string;
  jobId: string;
  importId: string;
  possibleDuplicateId: string;
  selfExportId: string;
  exportRequestId: string;
  orderId: string;
  optionId: string;
  retentionRunId: string;
  roleId: string;
  userId: string;
  tokenId: string;
  settings: { intake: unknown; lifecycle: unknown; retention: unknown; exports: unknown };
  /** throwaway records for calls that destroy what they are given */
  fresh: {
    contact(extra?: Record<string, unknown>): Promise<string>;
    user(): Promise<string>;
    /** the email of a new staff user, for sign-in cells (sign-ins are rate-limited per address) */
    login(): Promise<string>;
    role(): Promise<string>;
    token(): Promise<string>;
    attribute(): Promise<string>;
    project(contactIds?: string[]): Promise<string>;
    /** a sequence with one enrolled contact (or none: steps can change only before anyone is enrolled) */
    sequence(opts?: { enrolled: false }): Promise<{ id: string; enrollmentId: string }>;
    record(kind: 'notes' | 'meetings' | 'tasks'): Promise<string>;
    webhook(): Promise<string>;
    /** an export request awaiting approval, for the scaled team (platform support decides it) */
    exportRequest(): Promise<string>;
  };
}

export const recordBodies = {
  notes: { body: 'Called about the spring fair' },
  meetings: { title: 'Coffee', scheduledAt: '2026-02-01T10:00:00.000Z' },
  tasks: { title: 'Send the brochure' },
};

export async function seedFixtures(h: Harness): Promise<Fixtures> {
  const slug = `authz-${rnd()}`;
  const t = await h.tenant(slug);
  const as = (method: InjectOptions['method'], url: string, payload?: unknown): Promise<LightMyRequestResponse> =>
    h.request(t.admin.token, { method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const ok = async (expected: number, method: InjectOptions['method'], url: string, payload?: unknown) => {
    const res = await as(method, url, payload);
    if (res.statusCode !== expected) throw new Error(`fixture ${method} ${url}: expected ${expected}, got ${res.statusCode} ${res.body}`);
    return res.statusCode === 204 ? null : res.json();
  };

  const contact = async (extra: Record<string, unknown> = {}) => (await ok(201, 'POST', '/api/contacts', { firstName: 'Fixture', lastName: `Person ${rnd()}`, ...extra })).id as string;
  const record = async (contactId: string, kind: 'notes' | 'meetings' | 'tasks') => (await ok(201, 'POST', `/api/contacts/${contactId}/${kind}`, recordBodies[kind])).id as string;
  const sequence = async (contactId: string | null) => {
    const seq = await ok(201, 'POST', '/api/sequences', { name: `Seq ${rnd()}`, steps: [{ subject: 'Hello', body: 'Hi there', delayDays: 0 }] });
    if (!contactId) return { id: seq.id as string, enrollmentId: '' };
    await ok(200, 'POST', `/api/sequences/${seq.id}/enrollments`, { contactIds: [contactId] });
    const enrollments = await ok(200, 'GET', `/api/sequences/${seq.id}/enrollments`);
    return { id: seq.id as string, enrollmentId: enrollments.items[0].id as string };
  };

  const employerId = (await ok(201, 'POST', '/api/employers', { name: `Employer ${rnd()}` })).id;
  const attributeId = (await ok(201, 'POST', '/api/attributes', { key: `program_${rnd()}`, type: 'text' })).id;
  const contactId = await contact({ employerId });
  const projectId = (await ok(201, 'POST', '/api/projects', { name: `Project ${rnd()}`, contactIds: [contactId] })).id;
  const seq = await sequence(contactId);
  const formId = (
    await ok(201, 'POST', '/api/forms', {
      name: `Form ${rnd()}`,
      organizationId: t.organizationIds[0],
      fields: [
        { field: 'firstName', required: true },
        { field: 'lastName', required: true },
        { field: 'email', required: false },
      ],
    })
  ).id;
  const webhook = async () => (await ok(201, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['contact.expunged'] })).id as string;
  const webhookId = await webhook();
  const workflow = await ok(201, 'POST', '/api/workflow-templates/consent_renewal', {});
  const workflowDefinition = (await ok(200, 'GET', `/api/workflows/${workflow.id}`)).definition;
  await ok(200, 'POST', `/api/workflows/${workflow.id}/enrollments`, { filter: { ids: [contactId] } });
  const workflowEnrollmentId = (await ok(200, 'GET', `/api/workflows/${workflow.id}/enrollments`)).items[0].id;

  // Two same-named contacts at one employer make a possible duplicate once a scan has run.
  await contact({ firstName: 'Dana', lastName: 'Twin', employerId });
  await contact({ firstName: 'Dana', lastName: 'Twin', employerId });
  await ok(202, 'POST', '/api/possible-duplicates/scan');
  const imported = await h.request(t.admin.token, {
    method: 'POST',
    url: '/api/imports',
    headers: { 'content-type': 'text/csv' },
    payload: 'first_name,last_name,email\nImported,Row,\n,MissingFirst,not-an-email\n',
  });
  if (imported.statusCode !== 202) throw new Error(`fixture import: ${imported.statusCode} ${imported.body}`);
  const selfExportId = (await ok(202, 'POST', '/api/exports', { scope: { type: 'contacts', filters: { organizationId: t.organizationIds[0] } } })).id;
  const retentionRunId = (await ok(202, 'POST', '/api/retention/runs', { months: 36, execute: false })).id;
  // Run the scan, the import, the export and the simulation, as a worker would.
  await work(h);
  const possibleDuplicateId = (await ok(200, 'GET', '/api/possible-duplicates')).items[0].id;

  // A queued job nobody runs (bulk archive of a throwaway contact) for the job routes.
  const jobId = (await ok(202, 'POST', '/api/contacts/bulk', { filter: { ids: [await contact()] }, action: { action: 'archive' } })).jobId;
  // Requests for the scaled team (Alumni), which platform support decides.
  // Only the team's own admin, at one of its email domains, gets a request past the policy.
  const alumniAdmin = await h.user(t, 'admin', { organizationId: t.organizationIds[1], email: `alumni-admin-${rnd()}@${slug}.example.org` });
  const exportRequest = async () => {
    const res = await h.request(alumniAdmin.token, { method: 'POST', url: '/api/export-requests', payload: { organizationId: t.organizationIds[1], reason: 'Annual review' } });
    if (res.statusCode !== 201 || res.json().status !== 'awaiting_approval') throw new Error(`fixture export request: ${res.statusCode} ${res.body}`);
    return res.json().id as string;
  };
  const exportRequestId = await exportRequest();
  const order = await ok(201, 'POST', '/api/ticketing/orders', {
    externalRef: `ORD-${rnd()}`,
    kind: 'sale',
    orderedAt: '2025-12-01T00:00:00Z',
    contacts: [{ contactId, role: 'purchase' }],
  });
  const option = await ok(201, 'POST', '/api/ticketing/options', { externalRef: `OPT-${rnd()}`, contactId, product: 'Season pass', acquiredAt: '2025-12-01T00:00:00Z' });
  const role = async () => (await ok(201, 'POST', '/api/roles', { name: `Spare ${rnd()}`, permissions: ['account.self'] })).id as string;
  const user = async () => (await h.user(t, 'staff')).id;
  const token = async () => (await ok(201, 'POST', '/api/tokens', { name: `spare ${rnd()}` })).id as string;

  return {
    t,
    slug,
    contactId,
    noteId: await record(contactId, 'notes'),
    meetingId: await record(contactId, 'meetings'),
    taskId: await record(contactId, 'tasks'),
    attributeId,
    employerId,
    projectId,
    sequenceId: seq.id,
    sequenceEnrollmentId: seq.enrollmentId,
    formId,
    webhookId,
    workflowId: workflow.id,
    workflowDefinition,
    workflowEnrollmentId,
    jobId,
    importId: imported.json().import.id,
    possibleDuplicateId,
    selfExportId,
    exportRequestId,
    orderId: order.id,
    optionId: option.id,
    retentionRunId,
    roleId: await role(),
    userId: await user(),
    tokenId: await token(),
    settings: {
      intake: (({ duplicateRule, defaultRegion }) => ({ duplicateRule, defaultRegion }))(await ok(200, 'GET', '/api/intake/settings')),
      lifecycle: await ok(200, 'GET', '/api/lifecycle/settings'),
      retention: await ok(200, 'GET', '/api/retention/settings'),
      exports: await ok(200, 'GET', '/api/export-settings'),
    },
    fresh: {
      contact,
      user,
      login: async () => (await h.user(t, 'staff')).email,
      role,
      token,
      attribute: async () => (await ok(201, 'POST', '/api/attributes', { key: `spare_${rnd()}`, type: 'text' })).id,
      project: async (contactIds = []) => (await ok(201, 'POST', '/api/projects', { name: `Spare ${rnd()}`, contactIds })).id,
      sequence: async (opts) => sequence(opts?.enrolled === false ? null : await contact()),
      record: async (kind) => record(contactId, kind),
      webhook,
      exportRequest,
    },
  };
}

type Build = (f: Fixtures) => InjectOptions | Promise<InjectOptions>;

const get = (url: string): InjectOptions => ({ method: 'GET', url });
const json = (method: InjectOptions['method'], url: string, payload?: unknown): InjectOptions => ({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
const form = (url: string, body: Record<string, string>): InjectOptions => ({
  method: 'POST',
  url,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(body).toString(),
});
const lifecycleAction = (action: string, body: unknown = {}): Build => async (f) => json('POST', `/api/contacts/${await f.fresh.contact()}/${action}`, body);
const SIGN_IN_PASSWORD = 'correct horse battery staple';

/**
 * How to call each route with real ids. Builders that destroy what they are given make a fresh
 * record per call, so every cell of the matrix meets the same state.
 */
export const requestFor: Record<string, Build> = {
  'GET /': () => get('/'),
  'GET /*': () => get('/some/console/page'),
  'GET /assets/*': () => get('/assets/missing.js'),
  'GET /api/docs': () => get('/api/docs'),
  'GET /api/docs/': () => get('/api/docs/'),
  'GET /api/docs/static/index.html': () => get('/api/docs/static/index.html'),
  'GET /api/docs/static/swagger-initializer.js': () => get('/api/docs/static/swagger-initializer.js'),
  'GET /api/docs/static/*': () => get('/api/docs/static/swagger-ui.css'),
  'GET /api/docs/json': () => get('/api/docs/json'),
  'GET /api/docs/yaml': () => get('/api/docs/yaml'),
  'GET /api/openapi.json': () => get('/api/openapi.json'),
  'GET /api/health': () => get('/api/health'),

  'POST /api/session': async (f) => json('POST', '/api/session', { email: await f.fresh.login(), password: SIGN_IN_PASSWORD }),
  'GET /api/session': () => get('/api/session'),
  'DELETE /api/session': () => json('DELETE', '/api/session'),
  'GET /api/me': () => get('/api/me'),
  'PATCH /api/me': () => json('PATCH', '/api/me', { name: 'Same Name' }),

  'GET /api/users': () => get('/api/users'),
  'POST /api/users': (f) => json('POST', '/api/users', { email: `new-${rnd()}@example.org`, name: 'New User', password: SIGN_IN_PASSWORD, role: 'staff', organizationId: f.t.organizationIds[0] }),
  'GET /api/users/:id': (f) => get(`/api/users/${f.userId}`),
  'PATCH /api/users/:id': async (f) => json('PATCH', `/api/users/${await f.fresh.user()}`, { name: 'Renamed' }),
  'DELETE /api/users/:id': async (f) => json('DELETE', `/api/users/${await f.fresh.user()}`),
  'POST /api/users/:id/access': async (f) => json('POST', `/api/users/${await f.fresh.user()}/access`, { enabled: false }),
  'GET /api/roles': () => get('/api/roles'),
  'POST /api/roles': () => json('POST', '/api/roles', { name: `Role ${rnd()}`, permissions: ['account.self'] }),
  'GET /api/roles/:id': (f) => get(`/api/roles/${f.roleId}`),
  'PATCH /api/roles/:id': async (f) => json('PATCH', `/api/roles/${await f.fresh.role()}`, { name: `Renamed ${rnd()}` }),
  'DELETE /api/roles/:id': async (f) => json('DELETE', `/api/roles/${await f.fresh.role()}`),
  'POST /api/tokens': () => json('POST', '/api/tokens', { name: `mine ${rnd()}` }),
  'GET /api/tokens': () => get('/api/tokens'),
  'DELETE /api/tokens/:id': async (f) => json('DELETE', `/api/tokens/${await f.fresh.token()}`),
  'GET /api/institution': () => get('/api/institution'),
  'GET /api/organizations': () => get('/api/organizations'),
  'GET /api/organizations/:id': (f) => get(`/api/organizations/${f.t.organizationIds[0]}`),
  'POST /api/organizations': () => json('POST', '/api/organizations', { name: `Org ${rnd()}`, tier: 'free' }),
  'PATCH /api/organizations/:id': (f) => json('PATCH', `/api/organizations/${f.t.organizationIds[0]}`, { tier: 'enterprise' }),
  'GET /api/platform/institutions': () => get('/api/platform/institutions'),
  'GET /api/audit': () => get('/api/audit?limit=5'),
  'GET /api/outbox': () => get('/api/outbox'),

  'GET /api/jobs': () => get('/api/jobs'),
  'GET /api/jobs/:id': (f) => get(`/api/jobs/${f.jobId}`),
  'POST /api/jobs/:id/cancel': (f) => json('POST', `/api/jobs/${f.jobId}/cancel`),

  'GET /api/attributes': () => get('/api/attributes'),
  'GET /api/attributes/:id': (f) => get(`/api/attributes/${f.attributeId}`),
  'POST /api/attributes': () => json('POST', '/api/attributes', { key: `attr_${rnd()}`, type: 'text' }),
  'PATCH /api/attributes/:id': (f) => json('PATCH', `/api/attributes/${f.attributeId}`, { label: 'Program' }),
  'DELETE /api/attributes/:id': async (f) => json('DELETE', `/api/attributes/${await f.fresh.attribute()}`),
  'GET /api/employers': () => get('/api/employers'),
  'GET /api/employers/:id': (f) => get(`/api/employers/${f.employerId}`),
  'GET /api/employers/:id/contacts': (f) => get(`/api/employers/${f.employerId}/contacts`),
  'POST /api/employers': () => json('POST', '/api/employers', { name: `Employer ${rnd()}` }),
  'PATCH /api/employers/:id': (f) => json('PATCH', `/api/employers/${f.employerId}`, { name: `Employer ${rnd()}` }),
  'GET /api/contacts': () => get('/api/contacts?limit=5'),
  'POST /api/contacts': () => json('POST', '/api/contacts', { firstName: 'Created', lastName: `In Matrix ${rnd()}` }),
  'GET /api/contacts/:id': (f) => get(`/api/contacts/${f.contactId}`),
  'PATCH /api/contacts/:id': (f) => json('PATCH', `/api/contacts/${f.contactId}`, { optInStatus: 'opted_in' }),
  'DELETE /api/contacts/:id': async (f) => json('DELETE', `/api/contacts/${await f.fresh.contact()}`),
  'PUT /api/contacts/:id/consent': (f) => json('PUT', `/api/contacts/${f.contactId}/consent`, { optInStatus: 'opted_in' }),
  'GET /api/contacts/:id/activity': (f) => get(`/api/contacts/${f.contactId}/activity`),
  'GET /api/contacts/:id/notes': (f) => get(`/api/contacts/${f.contactId}/notes`),
  'POST /api/contacts/:id/notes': (f) => json('POST', `/api/contacts/${f.contactId}/notes`, recordBodies.notes),
  'PATCH /api/contacts/:id/notes/:recordId': (f) => json('PATCH', `/api/contacts/${f.contactId}/notes/${f.noteId}`, recordBodies.notes),
  'DELETE /api/contacts/:id/notes/:recordId': async (f) => json('DELETE', `/api/contacts/${f.contactId}/notes/${await f.fresh.record('notes')}`),
  'GET /api/contacts/:id/meetings': (f) => get(`/api/contacts/${f.contactId}/meetings`),
  'POST /api/contacts/:id/meetings': (f) => json('POST', `/api/contacts/${f.contactId}/meetings`, recordBodies.meetings),
  'PATCH /api/contacts/:id/meetings/:recordId': (f) => json('PATCH', `/api/contacts/${f.contactId}/meetings/${f.meetingId}`, recordBodies.meetings),
  'DELETE /api/contacts/:id/meetings/:recordId': async (f) => json('DELETE', `/api/contacts/${f.contactId}/meetings/${await f.fresh.record('meetings')}`),
  'GET /api/contacts/:id/tasks': (f) => get(`/api/contacts/${f.contactId}/tasks`),
  'POST /api/contacts/:id/tasks': (f) => json('POST', `/api/contacts/${f.contactId}/tasks`, recordBodies.tasks),
  'PATCH /api/contacts/:id/tasks/:recordId': (f) => json('PATCH', `/api/contacts/${f.contactId}/tasks/${f.taskId}`, recordBodies.tasks),
  'DELETE /api/contacts/:id/tasks/:recordId': async (f) => json('DELETE', `/api/contacts/${f.contactId}/tasks/${await f.fresh.record('tasks')}`),

  'POST /api/contacts/:id/disable': lifecycleAction('disable'),
  'POST /api/contacts/:id/restore': lifecycleAction('restore'),
  'POST /api/contacts/:id/archive': lifecycleAction('archive'),
  'POST /api/contacts/:id/unarchive': lifecycleAction('unarchive'),
  'POST /api/contacts/:id/reject': lifecycleAction('reject'),
  'POST /api/contacts/:id/approve': lifecycleAction('approve'),
  'POST /api/contacts/:id/delete': lifecycleAction('delete'),
  'POST /api/contacts/:id/expunge': lifecycleAction('expunge', { notify: false }),
  'GET /api/contacts/:id/lifecycle': (f) => get(`/api/contacts/${f.contactId}/lifecycle`),
  'POST /api/contacts/bulk/preview': (f) => json('POST', '/api/contacts/bulk/preview', { filter: { ids: [f.contactId] }, action: { action: 'archive' } }),
  'POST /api/contacts/bulk': async (f) => json('POST', '/api/contacts/bulk', { filter: { ids: [await f.fresh.contact()] }, action: { action: 'archive' } }),
  'GET /api/lifecycle/settings': () => get('/api/lifecycle/settings'),
  'PATCH /api/lifecycle/settings': (f) => json('PATCH', '/api/lifecycle/settings', f.settings.lifecycle),

  'GET /api/intake/settings': () => get('/api/intake/settings'),
  'PUT /api/intake/settings': (f) => json('PUT', '/api/intake/settings', f.settings.intake),
  'GET /api/forms': () => get('/api/forms'),
  'POST /api/forms': (f) =>
    json('POST', '/api/forms', {
      name: `Form ${rnd()}`,
      organizationId: f.t.organizationIds[0],
      fields: [
        { field: 'firstName', required: true },
        { field: 'lastName', required: true },
      ],
    }),
  'GET /api/forms/:id': (f) => get(`/api/forms/${f.formId}`),
  'PUT /api/forms/:id': (f) =>
    json('PUT', `/api/forms/${f.formId}`, {
      name: 'Fixture form',
      organizationId: f.t.organizationIds[0],
      fields: [
        { field: 'firstName', required: true },
        { field: 'lastName', required: true },
        { field: 'email', required: false },
      ],
    }),
  'GET /api/contacts/:id/applications': (f) => get(`/api/contacts/${f.contactId}/applications`),
  'GET /api/public/forms/:formId': (f) => get(`/api/public/forms/${f.formId}`),
  'POST /api/public/forms/:formId/apply': (f) => json('POST', `/api/public/forms/${f.formId}/apply`, { firstName: 'Applicant', lastName: `Matrix ${rnd()}` }),
  'POST /api/public/forms/:formId/verifications/:verificationId/verify': (f) => json('POST', `/api/public/forms/${f.formId}/verifications/00000000-0000-7000-8000-000000000000/verify`, { code: '123456' }),
  'POST /api/public/forms/:formId/verifications/:verificationId/resend': (f) => json('POST', `/api/public/forms/${f.formId}/verifications/00000000-0000-7000-8000-000000000000/resend`),
  'POST /api/imports': () => ({ method: 'POST', url: '/api/imports', headers: { 'content-type': 'text/csv' }, payload: 'first_name,last_name\nMatrix,Import\n' }),
  'GET /api/imports': () => get('/api/imports'),
  'GET /api/imports/:id': (f) => get(`/api/imports/${f.importId}`),
  'GET /api/imports/:id/errors.csv': (f) => get(`/api/imports/${f.importId}/errors.csv`),
  'POST /api/contacts/:id/merge/preview': async (f) => json('POST', `/api/contacts/${f.contactId}/merge/preview`, { otherId: await f.fresh.contact() }),
  'POST /api/contacts/:id/merge': async (f) => json('POST', `/api/contacts/${await f.fresh.contact()}/merge`, { otherId: await f.fresh.contact() }),
  'GET /api/possible-duplicates': () => get('/api/possible-duplicates'),
  'POST /api/possible-duplicates/scan': () => json('POST', '/api/possible-duplicates/scan'),
  'POST /api/possible-duplicates/:id/dismiss': (f) => json('POST', `/api/possible-duplicates/${f.possibleDuplicateId}/dismiss`),

  'GET /api/projects': () => get('/api/projects'),
  'POST /api/projects': () => json('POST', '/api/projects', { name: `Project ${rnd()}` }),
  'GET /api/projects/:id': (f) => get(`/api/projects/${f.projectId}`),
  'PATCH /api/projects/:id': (f) => json('PATCH', `/api/projects/${f.projectId}`, { description: 'Spring fair' }),
  'DELETE /api/projects/:id': async (f) => json('DELETE', `/api/projects/${await f.fresh.project()}`),
  'GET /api/projects/:id/contacts': (f) => get(`/api/projects/${f.projectId}/contacts`),
  'POST /api/projects/:id/contacts': (f) => json('POST', `/api/projects/${f.projectId}/contacts`, { contactIds: [f.contactId] }),
  'DELETE /api/projects/:id/contacts/:contactId': async (f) => {
    const projectId = await f.fresh.project([f.contactId]);
    return json('DELETE', `/api/projects/${projectId}/contacts/${f.contactId}`);
  },
  'GET /api/sequences': () => get('/api/sequences'),
  'POST /api/sequences': () => json('POST', '/api/sequences', { name: `Seq ${rnd()}`, steps: [{ subject: 'Hello', body: 'Hi' }] }),
  'GET /api/sequences/:id': (f) => get(`/api/sequences/${f.sequenceId}`),
  'PATCH /api/sequences/:id': (f) => json('PATCH', `/api/sequences/${f.sequenceId}`, { name: 'Fixture sequence' }),
  'DELETE /api/sequences/:id': async (f) => json('DELETE', `/api/sequences/${(await f.fresh.sequence()).id}`),
  'PUT /api/sequences/:id/steps': async (f) => json('PUT', `/api/sequences/${(await f.fresh.sequence({ enrolled: false })).id}/steps`, { steps: [{ subject: 'Hello', body: 'Hi there', delayDays: 0 }] }),
  'GET /api/sequences/:id/enrollments': (f) => get(`/api/sequences/${f.sequenceId}/enrollments`),
  'POST /api/sequences/:id/enrollments': (f) => json('POST', `/api/sequences/${f.sequenceId}/enrollments`, { contactIds: [f.contactId] }),
  'PUT /api/sequences/:id/enrollments/:enrollmentId/steps/:position': (f) =>
    json('PUT', `/api/sequences/${f.sequenceId}/enrollments/${f.sequenceEnrollmentId}/steps/1`, { status: 'sent' }),
  'DELETE /api/sequences/:id/enrollments/:enrollmentId': async (f) => {
    const s = await f.fresh.sequence();
    return json('DELETE', `/api/sequences/${s.id}/enrollments/${s.enrollmentId}`);
  },

  'POST /api/exports': (f) => json('POST', '/api/exports', { scope: { type: 'project', projectId: f.projectId } }),
  'GET /api/exports': () => get('/api/exports'),
  'GET /api/exports/:id': (f) => get(`/api/exports/${f.exportRequestId}`),
  'POST /api/export-requests': (f) => json('POST', '/api/export-requests', { organizationId: f.t.organizationIds[1], reason: 'Board meeting' }),
  'POST /api/exports/:id/approve': async (f) => json('POST', `/api/exports/${await f.fresh.exportRequest()}/approve`, { note: 'ok' }),
  'POST /api/exports/:id/refuse': async (f) => json('POST', `/api/exports/${await f.fresh.exportRequest()}/refuse`, { note: 'no' }),
  'POST /api/exports/:id/link': (f) => json('POST', `/api/exports/${f.selfExportId}/link`),
  'GET /api/export-settings': () => get('/api/export-settings'),
  'PUT /api/export-settings': (f) => json('PUT', '/api/export-settings', f.settings.exports),
  'POST /api/contacts/:id/subject-access': (f) => json('POST', `/api/contacts/${f.contactId}/subject-access`, { deliverTo: 'requester' }),
  'POST /api/public/institutions/:institution/subject-access/code': (f) => json('POST', `/api/public/institutions/${f.slug}/subject-access/code`, { email: 'nobody-sar@example.net' }),
  'POST /api/public/institutions/:institution/subject-access/confirm': (f) =>
    json('POST', `/api/public/institutions/${f.slug}/subject-access/confirm`, { requestId: '00000000-0000-7000-8000-000000000000', email: 'nobody-sar@example.net', code: '123456' }),
  'GET /exports/my-data/:institution': (f) => get(`/exports/my-data/${f.slug}`),
  'POST /exports/my-data/:institution': (f) => form(`/exports/my-data/${f.slug}`, { email: 'nobody-page@example.net' }),
  'POST /exports/my-data/:institution/confirm': (f) => form(`/exports/my-data/${f.slug}/confirm`, { requestId: 'x', email: 'nobody-page@example.net', code: '123456' }),
  'GET /exports/download/:token': () => get(`/exports/download/lx_${'A'.repeat(43)}`),
  'POST /exports/download/:token': () => form(`/exports/download/lx_${'A'.repeat(43)}`, {}),

  'POST /api/public/institutions/:institution/profile/code': (f) => json('POST', `/api/public/institutions/${f.slug}/profile/code`, { email: 'nobody-profile@example.net' }),
  'POST /api/public/institutions/:institution/profile/session': (f) => json('POST', `/api/public/institutions/${f.slug}/profile/session`, { email: 'nobody-profile@example.net', code: '123456' }),
  'DELETE /api/public/institutions/:institution/profile/session': (f) => json('DELETE', `/api/public/institutions/${f.slug}/profile/session`),
  'POST /api/public/institutions/:institution/profile/link': (f) => json('POST', `/api/public/institutions/${f.slug}/profile/link`, { token: 'not-a-real-link-token' }),
  'GET /api/public/institutions/:institution/profile': (f) => get(`/api/public/institutions/${f.slug}/profile`),
  'DELETE /api/public/institutions/:institution/profile': (f) => json('DELETE', `/api/public/institutions/${f.slug}/profile`),

  'GET /api/webhooks': () => get('/api/webhooks'),
  'POST /api/webhooks': () => json('POST', '/api/webhooks', { url: 'http://127.0.0.1:9/other', events: ['contact.deleted'] }),
  'GET /api/webhooks/:id': (f) => get(`/api/webhooks/${f.webhookId}`),
  'PATCH /api/webhooks/:id': (f) => json('PATCH', `/api/webhooks/${f.webhookId}`, { description: 'Data warehouse' }),
  'DELETE /api/webhooks/:id': async (f) => json('DELETE', `/api/webhooks/${await f.fresh.webhook()}`),
  'POST /api/webhooks/:id/ping': (f) => json('POST', `/api/webhooks/${f.webhookId}/ping`),
  'GET /api/webhooks/:id/deliveries': (f) => get(`/api/webhooks/${f.webhookId}/deliveries`),

  'POST /api/ticketing/orders': (f) =>
    json('POST', '/api/ticketing/orders', { externalRef: `ORD-${rnd()}`, kind: 'reservation', orderedAt: '2025-12-02T00:00:00Z', contacts: [{ contactId: f.contactId, role: 'purchase' }] }),
  'GET /api/ticketing/orders/:id': (f) => get(`/api/ticketing/orders/${f.orderId}`),
  'POST /api/ticketing/orders/:id/payments': (f) => json('POST', `/api/ticketing/orders/${f.orderId}/payments`, { amountCents: 1200, paidAt: '2025-12-03T00:00:00Z' }),
  'POST /api/ticketing/options': (f) => json('POST', '/api/ticketing/options', { externalRef: `OPT-${rnd()}`, contactId: f.contactId, product: 'Concert', acquiredAt: '2025-12-01T00:00:00Z' }),
  'POST /api/ticketing/options/:id/confirm': (f) => json('POST', `/api/ticketing/options/${f.optionId}/confirm`, { confirmedAt: '2025-12-04T00:00:00Z' }),
  'POST /api/ticketing/waitlist': (f) => json('POST', '/api/ticketing/waitlist', { contactId: f.contactId, product: 'Gala', addedAt: '2025-12-05T00:00:00Z' }),
  'GET /api/contacts/:id/recency': (f) => get(`/api/contacts/${f.contactId}/recency`),
  'GET /api/retention/settings': () => get('/api/retention/settings'),
  'PATCH /api/retention/settings': (f) => json('PATCH', '/api/retention/settings', f.settings.retention),
  'POST /api/retention/runs': () => json('POST', '/api/retention/runs', { months: 36, execute: false }),
  'GET /api/retention/runs': () => get('/api/retention/runs'),
  'GET /api/retention/runs/:id': (f) => get(`/api/retention/runs/${f.retentionRunId}`),
  'GET /api/retention/runs/:id/report.csv': (f) => get(`/api/retention/runs/${f.retentionRunId}/report.csv`),
  'POST /api/retention/consent-renewal': (f) => json('POST', '/api/retention/consent-renewal', { workflowId: f.workflowId, recencyBefore: '2000-01-01T00:00:00Z' }),
  'GET /api/retention/support/contacts/:id/history': (f) => get(`/api/retention/support/contacts/${f.contactId}/history`),

  'GET /api/workflows': () => get('/api/workflows'),
  'POST /api/workflows': (f) => json('POST', '/api/workflows', { ...f.workflowDefinition, name: `Workflow ${rnd()}` }),
  'GET /api/workflows/:id': (f) => get(`/api/workflows/${f.workflowId}`),
  'PUT /api/workflows/:id': (f) => json('PUT', `/api/workflows/${f.workflowId}`, f.workflowDefinition),
  'POST /api/workflows/:id/pause': (f) => json('POST', `/api/workflows/${f.workflowId}/pause`),
  'POST /api/workflows/:id/resume': (f) => json('POST', `/api/workflows/${f.workflowId}/resume`),
  'POST /api/workflows/:id/enrollments': (f) => json('POST', `/api/workflows/${f.workflowId}/enrollments`, { filter: { ids: [f.contactId] } }),
  'GET /api/workflows/:id/enrollments': (f) => get(`/api/workflows/${f.workflowId}/enrollments`),
  'GET /api/workflow-enrollments/:id': (f) => get(`/api/workflow-enrollments/${f.workflowEnrollmentId}`),
  'GET /api/contacts/:id/workflow-runs': (f) => get(`/api/contacts/${f.contactId}/workflow-runs`),
  'GET /api/workflow-templates': () => get('/api/workflow-templates'),
  'POST /api/workflow-templates/:key': () => json('POST', '/api/workflow-templates/consent_renewal', {}),
  'GET /p/l/*': () => get('/p/l/not-a-valid-link-token'),
  'GET /p/opt-in/*': () => get('/p/opt-in/not-a-valid-link-token'),
  'POST /p/opt-in/*': () => form('/p/opt-in/not-a-valid-link-token', { consent: 'yes' }),
  'GET /p/renew/*': () => get('/p/renew/not-a-valid-link-token'),
  'POST /p/renew/*': () => form('/p/renew/not-a-valid-link-token', { consent: 'yes' }),
  'GET /p/unsubscribe/*': () => get('/p/unsubscribe/not-a-valid-link-token'),
  'POST /p/unsubscribe/*': () => form('/p/unsubscribe/not-a-valid-link-token', {}),
};
