import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type Harness, type SeededTenant } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { startSmtpSink, type ReceivedMail } from '../../test/support/smtp.ts';
import { csvObjects, download, PLATFORM_PASSWORD, platformUser, tokenIn, unzip, work } from '../../test/support/exports.ts';
import { signIn } from '../../test/support/sessions.ts';
import { smtpTransport } from '../mail/transport.ts';
import { listAudit } from '../audit/audit-log.ts';
import { exportsDir } from './files.ts';
import { updateExportSettings } from './settings.ts';
import { refusalMessages } from './policy.ts';

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

const DAY = 86_400_000;

describeEachEngine('export requests under the policy', (h) => {
  let support: Awaited<ReturnType<typeof platformUser>>;
  let csm: Awaited<ReturnType<typeof platformUser>>;
  let otherCsm: Awaited<ReturnType<typeof platformUser>>;

  beforeAll(async () => {
    support = await platformUser(h, 'support');
    csm = await platformUser(h, 'csm');
    otherCsm = await platformUser(h, 'csm');
  });

  const deliver = async () => {
    const transport = smtpTransport(smtp.url);
    try {
      await work(h, transport);
    } finally {
      transport.close();
    }
  };
  const mailTo = (to: string, exportId: string): ReceivedMail[] => smtp.received.filter((m) => m.to.includes(to) && m.text.includes(exportId));

  /** A tenant whose first team (enterprise) and second team (scaled) each have contacts, projects and sequences. */
  async function team(h: Harness) {
    const t = await h.tenant();
    const domain = t.adminEmail.split('@')[1];
    const scaledAdmin = await h.user(t, 'admin', { email: `boss@${domain}`, organizationId: t.organizationIds[1] });
    const api = contactsApi(h, t.admin.token);
    const enterpriseContact = (await api.createContact({ firstName: 'Erin', lastName: 'Enterprise', email: `erin@${domain}.test`, organizationId: t.organizationIds[0] })).id;
    const scaledContact = (await api.createContact({ firstName: 'Sam', lastName: 'Scaled', email: `sam@${domain}.test`, organizationId: t.organizationIds[1] })).id;
    const rejected = (await api.createContact({ firstName: 'Rita', lastName: 'Rejected', email: `rita@${domain}.test`, organizationId: t.organizationIds[1], approvalStatus: 'rejected' })).id;
    const project = await h.request(scaledAdmin.token, { method: 'POST', url: '/api/projects', payload: { name: 'Scaled pipeline', contactIds: [scaledContact, rejected] } });
    expect(project.statusCode, project.body).toBe(201);
    const sequence = await h.request(scaledAdmin.token, { method: 'POST', url: '/api/sequences', payload: { name: 'Scaled outreach', steps: [{ subject: 'Hi', body: 'Hello' }] } });
    await h.request(scaledAdmin.token, { method: 'POST', url: `/api/sequences/${sequence.json().id}/enrollments`, payload: { contactIds: [scaledContact] } });
    return { t, domain, scaledAdmin, enterpriseContact, scaledContact, rejected, projectId: project.json().id as string, sequenceId: sequence.json().id as string };
  }

  const request = (token: string, payload: Record<string, unknown>) => h.request(token, { method: 'POST', url: '/api/export-requests', payload });
  const asPlatform = (who: { session: { request: Function } }, t: SeededTenant, method: 'GET' | 'POST', url: string, payload?: unknown) =>
    (who.session.request as (o: object) => Promise<{ statusCode: number; json(): any; body: string }>)({ method, url, headers: { 'x-lethe-institution': t.institutionId }, ...(payload ? { payload } : {}) });
  const actions = async (t: SeededTenant, id: string) => (await listAudit(h.ctx, { institutionId: t.institutionId, targetId: id, limit: 50 })).map((a) => a.action).reverse();

  it('free tier: refused with a clear message naming the rule, recorded, audited and emailed', async () => {
    const { t } = await team(h);
    await h.ctx.db.updateTable('organizations').set({ tier: 'free' }).where('id', '=', t.organizationIds[0]).execute();
    const res = await request(t.admin.token, { organizationId: t.organizationIds[0], reason: 'We are leaving' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ status: 'refused', refusal: { rule: 'free_tier', message: refusalMessages.free_tier } });
    expect(body.jobId).toBeNull();
    expect(await actions(t, body.id)).toEqual(['export.submitted', 'export.refused']);
    await deliver();
    const [mail] = mailTo(t.adminEmail, body.id);
    expect(mail.subject).toMatch(/refused/);
    expect(mail.text).toContain('free_tier');
    expect(mail.text).toContain('not provided for free self-serve teams');
  });

  it('scaled: support handles it, the named approver is told, then the file is produced and delivered once', async () => {
    const { t, domain, scaledAdmin, scaledContact, enterpriseContact, rejected } = await team(h);
    await updateExportSettings(h.ctx.db, t.institutionId, { scaledApproverEmail: 'amy@lethe-cs.example', scaledApproverName: 'Amy' });
    const res = await request(scaledAdmin.token, { organizationId: t.organizationIds[1], reason: 'Team migrating to a new workspace', format: 'csv' });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id;
    expect(res.json()).toMatchObject({ status: 'awaiting_approval', approverRole: 'support', reason: 'Team migrating to a new workspace', jobId: null });
    await deliver();
    expect(mailTo(`boss@${domain}`, id)[0].subject).toMatch(/received/);
    expect(mailTo('amy@lethe-cs.example', id)[0].text).toContain('Team migrating to a new workspace');
    expect(mailTo(support.email, id)[0].subject).toMatch(/Export request to handle/);

    // A CSM and the tenant's own admin cannot decide a scaled request; support can.
    expect((await asPlatform(csm, t, 'POST', `/api/exports/${id}/approve`)).statusCode).toBe(403);
    const byAdmin = await h.request(t.admin.token, { method: 'POST', url: `/api/exports/${id}/approve` });
    expect(byAdmin.statusCode).toBe(403);
    expect(byAdmin.json().detail).toMatch(/platform support/);
    const approved = await asPlatform(support, t, 'POST', `/api/exports/${id}/approve`, { note: 'Reason checked' });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', decidedBy: support.id, decisionNote: 'Reason checked' });
    expect((await asPlatform(support, t, 'POST', `/api/exports/${id}/approve`)).statusCode).toBe(409);

    await deliver();
    const ready = mailTo(`boss@${domain}`, id).find((m) => /ready/.test(m.subject))!;
    expect(ready).toBeTruthy();
    expect(mailTo('amy@lethe-cs.example', id).some((m) => /ready/.test(m.subject))).toBe(false); // the link goes to the requester only
    const zip = await unzip((await download(h, tokenIn(ready.text))).rawPayload);
    const contacts = csvObjects(zip['contacts.csv']).map((c) => c.id).sort();
    expect(contacts).toEqual([scaledContact, rejected].sort()); // the team's contacts (rejected ones too), not the other team's
    expect(contacts).not.toContain(enterpriseContact);
    expect(csvObjects(zip['projects.csv']).map((p) => p.name)).toEqual(['Scaled pipeline']);
    expect(csvObjects(zip['project_contacts.csv'])).toHaveLength(2);
    expect(csvObjects(zip['sequences.csv']).map((s) => s.name)).toEqual(['Scaled outreach']);
    expect(csvObjects(zip['sequence_step_statuses.csv'])).toMatchObject([{ step_position: '1', status: 'scheduled' }]);
    expect(await actions(t, id)).toEqual([
      'export.submitted',
      'export.awaiting_approval',
      'export.approved',
      'export.producing',
      'export.ready',
      'export.downloaded',
      'export.destroyed',
    ]);
    expect((await download(h, tokenIn(ready.text))).statusCode).toBe(410);
  });

  it('enterprise: nothing is produced until the assigned CSM approves; support and other CSMs cannot approve', async () => {
    const { t, enterpriseContact } = await team(h);
    const res = await request(t.admin.token, { organizationId: t.organizationIds[0], reason: 'Annual archive for our records', format: 'json' });
    const id = res.json().id;
    expect(res.json()).toMatchObject({ status: 'awaiting_approval', approverRole: 'csm' });

    // No CSM assigned yet: approval is impossible, and says how to fix it.
    const none = await asPlatform(csm, t, 'POST', `/api/exports/${id}/approve`);
    expect(none.statusCode).toBe(403);
    expect(none.json().detail).toMatch(/no assigned CSM/);
    const assign = await h.request(t.admin.token, { method: 'PATCH', url: `/api/organizations/${t.organizationIds[0]}`, payload: { csmUserId: csm.id } });
    expect(assign.statusCode, assign.body).toBe(200);

    expect((await asPlatform(support, t, 'POST', `/api/exports/${id}/approve`)).statusCode).toBe(403);
    expect((await asPlatform(otherCsm, t, 'POST', `/api/exports/${id}/approve`)).statusCode).toBe(403);
    await deliver();
    const exportFiles = () => (fs.existsSync(exportsDir(h.ctx)) ? fs.readdirSync(exportsDir(h.ctx)).filter((f) => f.startsWith(id)) : []);
    expect(exportFiles()).toEqual([]);
    expect((await h.ctx.db.selectFrom('exports').select(['status', 'job_id']).where('id', '=', id).executeTakeFirstOrThrow())).toEqual({ status: 'awaiting_approval', job_id: null });
    expect(await h.ctx.db.selectFrom('export_keys').select('export_id').where('export_id', '=', id).executeTakeFirst()).toBeUndefined();
    expect(mailTo(csm.email, id)).toHaveLength(0); // not assigned when the request came in: support was told instead
    expect(mailTo(support.email, id)[0].text).toContain("waits for the approval of the team's CSM");

    const approved = await asPlatform(csm, t, 'POST', `/api/exports/${id}/approve`);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', decidedBy: csm.id });
    await deliver();
    expect(mailTo(support.email, id).some((m) => /approved/.test(m.subject))).toBe(true);
    const ready = mailTo(t.adminEmail, id).find((m) => /ready/.test(m.subject))!;
    const zip = await unzip((await download(h, tokenIn(ready.text))).rawPayload);
    expect(JSON.parse(zip['contacts.json']).map((c: { id: string }) => c.id)).toEqual([enterpriseContact]);
    expect(exportFiles()).toEqual([]);
  });

  it('mid-market: the assigned CSM is asked by email and may refuse, with a note the requester receives', async () => {
    const { t } = await team(h);
    await h.ctx.db.updateTable('organizations').set({ tier: 'mid_market', csm_user_id: csm.id }).where('id', '=', t.organizationIds[0]).execute();
    const res = await request(t.admin.token, { organizationId: t.organizationIds[0], reason: 'Moving to another team in the product' });
    const id = res.json().id;
    await deliver();
    const ask = mailTo(csm.email, id)[0];
    expect(ask.subject).toMatch(/Approval needed/);
    expect(ask.text).toContain('Moving to another team in the product');
    const noNote = await asPlatform(csm, t, 'POST', `/api/exports/${id}/refuse`, {});
    expect(noNote.statusCode).toBe(422);
    expect(noNote.json().errors[0].field).toBe('note');
    const refused = await asPlatform(csm, t, 'POST', `/api/exports/${id}/refuse`, { note: 'Contract forbids bulk export' });
    expect(refused.json()).toMatchObject({ status: 'refused', refusal: { rule: 'refused_by_csm', message: 'Contract forbids bulk export' } });
    await deliver();
    expect(mailTo(t.adminEmail, id).find((m) => /refused/.test(m.subject))!.text).toContain('Contract forbids bulk export');
  });

  it('refuses a requester who is not the team admin or not at its domain, naming every rule; a missing reason is bad input and records nothing', async () => {
    const { t, domain } = await team(h);
    const staffAtDomain = await h.user(t, 'staff', { email: `staffer@${domain}` });
    expect((await request(staffAtDomain.token, { organizationId: t.organizationIds[0], reason: 'x' })).statusCode).toBe(403); // role lacks exports.request

    const outsider = await h.user(t, 'admin', { email: 'admin@elsewhere.example', organizationId: t.organizationIds[1] });
    const both = await request(outsider.token, { organizationId: t.organizationIds[0], reason: 'We need it' });
    expect(both.json()).toMatchObject({ status: 'refused', refusal: { rule: 'not_team_admin' } });
    expect(both.json().refusal.message).toContain(refusalMessages.domain_mismatch);
    const audit = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: both.json().id, action: 'export.refused', limit: 1 });
    expect(audit[0].meta).toMatchObject({ rule: 'not_team_admin', rules: ['not_team_admin', 'domain_mismatch'] });

    const before = await h.count('exports');
    for (const reason of [undefined, '   ']) {
      const missing = await request(t.admin.token, { organizationId: t.organizationIds[0], ...(reason === undefined ? {} : { reason }) });
      expect(missing.statusCode).toBe(422);
      expect(missing.json().errors).toEqual([{ field: 'reason', message: expect.stringContaining('reason_required') }]);
    }
    const malformed = await request(t.admin.token, { organizationId: 42, agency: 'yes', format: 'pdf' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['agency', 'format', 'organizationId']);
    const stranger = await h.tenant();
    const foreign = await request(t.admin.token, { organizationId: stranger.organizationIds[0], reason: 'x' });
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().errors[0].field).toBe('organizationId');
    expect(await h.count('exports')).toBe(before);
  });

  it("refuses the team's own admin writing from another domain, or a subdomain, for the domain rule alone", async () => {
    const { t, domain } = await team(h);
    for (const email of [`chief@elsewhere.example`, `chief@mail.${domain}`]) {
      const admin = await h.user(t, 'admin', { email, organizationId: t.organizationIds[0] });
      const res = await request(admin.token, { organizationId: t.organizationIds[0], reason: 'Moving teams' });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ status: 'refused', jobId: null, refusal: { rule: 'domain_mismatch', message: refusalMessages.domain_mismatch } });
      const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: res.json().id, action: 'export.refused', limit: 1 });
      expect(entry.meta).toMatchObject({ rule: 'domain_mismatch', rules: ['domain_mismatch'] });
    }
    // The same admin at the team's domain gets through to approval.
    const atDomain = await h.user(t, 'admin', { email: `chief@${domain}`, organizationId: t.organizationIds[0] });
    expect((await request(atDomain.token, { organizationId: t.organizationIds[0], reason: 'Moving teams' })).json().status).toBe('awaiting_approval');
  });

  it("always refuses a request for an agency contract's data, even from an eligible enterprise admin", async () => {
    const { t } = await team(h);
    const res = await request(t.admin.token, { organizationId: t.organizationIds[0], reason: 'Agency wants its contract data', agency: true });
    expect(res.json()).toMatchObject({ status: 'refused', agency: true, refusal: { rule: 'agency_contract' } });
    expect(res.json().refusal.message).toMatch(/hard no/);
  });

  it('keeps a churned team eligible through day 90 after its contract end, and re-checks at approval', async () => {
    const { t } = await team(h);
    const ended = h.clock.now().getTime();
    await h.ctx.db.updateTable('organizations').set({ contract_ends_at: new Date(ended).toISOString(), csm_user_id: csm.id }).where('id', '=', t.organizationIds[0]).execute();
    const start = h.clock.now().toISOString();
    try {
      h.clock.set(new Date(ended + 90 * DAY));
      const onDay90 = await request(t.admin.token, { organizationId: t.organizationIds[0], reason: 'We churned and need our candidates' });
      expect(onDay90.json()).toMatchObject({ status: 'awaiting_approval' });

      h.clock.set(new Date(ended + 90 * DAY + 1));
      const late = await request(t.admin.token, { organizationId: t.organizationIds[0], reason: 'We churned and need our candidates' });
      expect(late.json()).toMatchObject({ status: 'refused', refusal: { rule: 'churned_over_90_days' } });

      // The CSM approves the day-90 request on day 91: the policy no longer allows it.
      h.clock.set(new Date(ended + 91 * DAY));
      const approve = await asPlatform({ session: await signIn(h, csm.email, PLATFORM_PASSWORD) }, t, 'POST', `/api/exports/${onDay90.json().id}/approve`);
      expect(approve.statusCode).toBe(200);
      expect(approve.json()).toMatchObject({ status: 'refused', refusal: { rule: 'churned_over_90_days' }, jobId: null });
    } finally {
      h.clock.set(start);
    }
  });

  it('lists requests for those who decide them and for the requester, not for other staff', async () => {
    const { t } = await team(h);
    const res = await request(t.admin.token, { organizationId: t.organizationIds[0], reason: 'Audit' });
    const staff = await h.user(t, 'staff');
    const mine = await h.request(staff.token, { method: 'GET', url: '/api/exports' });
    expect(mine.json().items).toEqual([]);
    const forSupport = await asPlatform(support, t, 'GET', '/api/exports?status=awaiting_approval');
    expect(forSupport.json().items.map((e: { id: string }) => e.id)).toContain(res.json().id);
    const privacy = await h.user(t, 'privacy_officer');
    expect((await h.request(privacy.token, { method: 'GET', url: `/api/exports/${res.json().id}` })).statusCode).toBe(200);
  });
});
