import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type Harness, type SeededTenant } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { csvObjects, download, platformUser, tokenIn, unzip, work } from '../../test/support/exports.ts';
import { smtpTransport } from '../mail/transport.ts';
import { listAudit } from '../audit/audit-log.ts';
import { exportFilePath, exportsDir } from './files.ts';
import { ALREADY_DOWNLOADED, LINK_EXPIRED } from './delivery.ts';
import { updateExportSettings } from './settings.ts';

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

describeEachEngine('self-serve exports', (h) => {
  let t: SeededTenant;
  let staff: Awaited<ReturnType<Harness['user']>>;
  let other: Awaited<ReturnType<Harness['user']>>;
  const ids: Record<string, string> = {};

  const mailTo = (to: string) => smtp.received.filter((m) => m.to.includes(to));
  const send = async () => {
    const transport = smtpTransport(smtp.url);
    try {
      await work(h, transport);
    } finally {
      transport.close();
    }
  };
  const selfServe = (token: string, payload: unknown, headers: Record<string, string> = {}) => h.request(token, { method: 'POST', url: '/api/exports', payload: payload as object, headers });

  beforeAll(async () => {
    t = await h.tenant();
    staff = await h.user(t, 'staff');
    other = await h.user(t, 'staff');
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'program', label: 'Program', type: 'choice', options: ['law', 'medicine'] });
    const employer = await api.createEmployer('Globex');
    const make = async (key: string, body: Record<string, unknown>) => (ids[key] = (await api.createContact(body)).id);
    await make('ada', { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.net', attributes: { program: 'law' }, employerId: employer.id, authorizations: { newsletter: true } });
    await make('alan', { firstName: 'Alan', lastName: 'Turing', email: 'alan@example.net', attributes: { program: 'medicine' }, mobilePhone: '+1 415 555 0100' });
    await make('grace', { firstName: 'Grace', lastName: '=HYPERLINK("evil")', email: 'grace@example.net', attributes: { program: 'law' } });
    await make('secret', { firstName: 'Owner', lastName: 'Only', email: 'secret@example.net', visibility: 'owner_only', ownerUserId: other.id, attributes: { program: 'law' } });
  });

  it('exports a filtered set as CSV in an encrypted zip, delivered once through an emailed link, then leaves nothing', async () => {
    const res = await selfServe(staff.token, { format: 'csv', scope: { type: 'contacts', filters: { attributes: [{ key: 'program', values: ['law'] }] } } });
    expect(res.statusCode, res.body).toBe(202);
    const created = res.json();
    expect(created).toMatchObject({ kind: 'self_serve', status: 'approved', approverRole: 'automatic', format: 'csv' });
    expect(created.jobId).toBeTruthy();

    await send();
    const ready = await h.request(staff.token, { method: 'GET', url: `/api/exports/${created.id}` });
    expect(ready.json()).toMatchObject({ status: 'ready', rowCount: 2, progress: { done: 2, total: 2 } });
    const job = await h.request(staff.token, { method: 'GET', url: `/api/jobs/${created.jobId}` });
    expect(job.json()).toMatchObject({ status: 'succeeded', progress: { done: 2, total: 2, percent: 100 } });

    // At rest: the file holds no clear text of what it contains.
    const file = exportFilePath(h.ctx, created.id);
    const atRest = fs.readFileSync(file);
    expect(atRest.subarray(0, 4).toString()).toBe('LXE1');
    expect(atRest.includes(Buffer.from('Lovelace'))).toBe(false);
    // No zip inside in clear: its local-file-header signature (four bytes: two, "PK", turn up in
    // random ciphertext about once per 64 KiB).
    expect(atRest.includes(Buffer.from([0x50, 0x4b, 0x03, 0x04]))).toBe(false);
    expect(await h.ctx.db.selectFrom('export_keys').select('export_id').where('export_id', '=', created.id).executeTakeFirst()).toBeTruthy();

    const [mail] = mailTo(staff.email).filter((m) => m.text.includes(created.id) && /ready/.test(m.subject));
    expect(mail).toBeTruthy();
    const token = tokenIn(mail.text);
    expect(token).toMatch(/^lx_[A-Za-z0-9_-]{43}$/); // 256 random bits
    const row = await h.ctx.db.selectFrom('exports').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row.token_hash).not.toContain(token);

    // The link page does not use up the download (mail scanners follow links).
    const page = await h.app.inject({ method: 'GET', url: `/exports/download/${token}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post">');

    const first = await download(h, token);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['content-type']).toBe('application/zip');
    const entries = await unzip(first.rawPayload);
    expect(Object.keys(entries).sort()).toEqual(['contacts.csv', 'manifest.json']);
    const rows = csvObjects(entries['contacts.csv']);
    expect(rows.map((r) => r.first_name).sort()).toEqual(['Ada', 'Grace']); // "Owner Only" is not visible to this staff user
    const ada = rows.find((r) => r.first_name === 'Ada')!;
    expect(ada).toMatchObject({ email: 'ada@example.net', employer: 'Globex', 'attr.program': 'law', opt_in_status: 'unknown' });
    expect(JSON.parse(ada.authorizations)).toMatchObject({ newsletter: { granted: true } });
    expect(rows.find((r) => r.first_name === 'Grace')!.last_name).toBe(`'=HYPERLINK("evil")`);
    expect(JSON.parse(entries['manifest.json'])).toMatchObject({ exportId: created.id, rows: { contacts: 2 } });

    // Nothing survives delivery: no file, no key, no filter values; the link answers 410.
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(exportsDir(h.ctx)).filter((f) => f.startsWith(created.id))).toEqual([]);
    expect(await h.ctx.db.selectFrom('export_keys').select('export_id').where('export_id', '=', created.id).executeTakeFirst()).toBeUndefined();
    const after = await h.ctx.db.selectFrom('exports').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ status: 'destroyed' });
    expect(after.downloaded_at).toBeTruthy();
    expect(after.scope).not.toContain('law');
    const second = await download(h, token);
    expect(second.statusCode).toBe(410);
    expect(second.json().detail).toBe(ALREADY_DOWNLOADED);
    expect((await h.app.inject({ method: 'GET', url: `/exports/download/${token}` })).statusCode).toBe(410);

    const audit = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: created.id, limit: 50 });
    expect(audit.map((a) => a.action).reverse()).toEqual(['export.submitted', 'export.approved', 'export.producing', 'export.ready', 'export.downloaded', 'export.destroyed']);
    await send();
    expect(mailTo(staff.email).some((m) => m.subject.includes('was downloaded') && m.text.includes(created.id))).toBe(true);
  });

  it('exports a project and a sequence as JSON, with their members and step statuses', async () => {
    const project = await h.request(staff.token, { method: 'POST', url: '/api/projects', payload: { name: 'Law cohort', contactIds: [ids.ada, ids.grace] } });
    expect(project.statusCode, project.body).toBe(201);
    const sequence = await h.request(staff.token, {
      method: 'POST',
      url: '/api/sequences',
      payload: { name: 'Welcome', status: 'active', steps: [{ subject: 'Hello', body: 'Hi there' }, { subject: 'Follow-up', body: 'Still there?', delayDays: 3 }] },
    });
    expect(sequence.statusCode, sequence.body).toBe(201);
    const enrolled = await h.request(staff.token, { method: 'POST', url: `/api/sequences/${sequence.json().id}/enrollments`, payload: { contactIds: [ids.alan] } });
    expect(enrolled.json()).toEqual({ enrolled: 1 });

    const p = await selfServe(staff.token, { format: 'json', scope: { type: 'project', projectId: project.json().id } });
    const s = await selfServe(staff.token, { format: 'json', scope: { type: 'sequence', sequenceId: sequence.json().id } });
    expect([p.statusCode, s.statusCode]).toEqual([202, 202]);
    await work(h);
    const tokens: string[] = [];
    for (const id of [p.json().id, s.json().id]) {
      const link = await h.request(staff.token, { method: 'POST', url: `/api/exports/${id}/link` });
      expect(link.statusCode, link.body).toBe(200);
      tokens.push(link.json().token);
    }
    const projectZip = await unzip((await download(h, tokens[0])).rawPayload);
    expect(Object.keys(projectZip).sort()).toEqual(['contacts.json', 'manifest.json', 'project_contacts.json', 'projects.json']);
    expect(JSON.parse(projectZip['contacts.json']).map((c: { first_name: string }) => c.first_name).sort()).toEqual(['Ada', 'Grace']);
    expect(JSON.parse(projectZip['contacts.json'])[0].attributes).toEqual({ program: 'law' });
    expect(JSON.parse(projectZip['projects.json'])).toMatchObject([{ name: 'Law cohort', owner_user_id: staff.id }]);
    expect(JSON.parse(projectZip['project_contacts.json'])).toHaveLength(2);

    const sequenceZip = await unzip((await download(h, tokens[1])).rawPayload);
    expect(JSON.parse(sequenceZip['contacts.json']).map((c: { first_name: string }) => c.first_name)).toEqual(['Alan']);
    expect(JSON.parse(sequenceZip['sequence_steps.json']).map((x: { subject: string }) => x.subject)).toEqual(['Hello', 'Follow-up']);
    expect(JSON.parse(sequenceZip['sequence_step_statuses.json']).map((x: { status: string }) => x.status)).toEqual(['scheduled', 'pending']);
    expect(JSON.parse(sequenceZip['sequence_enrollments.json'])).toMatchObject([{ contact_id: ids.alan, status: 'active' }]);
  });

  it('refuses an export above the self-serve limit, explaining how to request a full export', async () => {
    await updateExportSettings(h.ctx.db, t.institutionId, { selfServeLimit: 2 });
    try {
      const before = await h.count('exports');
      const res = await selfServe(staff.token, { scope: { type: 'contacts', filters: {} } });
      expect(res.statusCode).toBe(422);
      const body = res.json();
      expect(body.errors).toEqual([{ field: 'scope', message: expect.stringContaining('more than 2 contacts') }]);
      expect(body.detail).toMatch(/self-serve limit/);
      expect(body.detail).toMatch(/POST \/api\/export-requests/);
      expect(body.detail).toMatch(/team admin/);
      expect(await h.count('exports')).toBe(before);
      const narrow = await selfServe(staff.token, { scope: { type: 'contacts', filters: { q: 'ada' } } });
      expect(narrow.statusCode).toBe(202);
    } finally {
      await updateExportSettings(h.ctx.db, t.institutionId, { selfServeLimit: 2000 });
    }
  });

  it('names every bad field and changes nothing', async () => {
    const before = await h.count('exports');
    const bad = await selfServe(staff.token, { format: 'xml', scope: { type: 'contacts', filters: { visibility: 'nobody' } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['format', 'scope.filters.visibility']);
    const attr = await selfServe(staff.token, { scope: { type: 'contacts', filters: { attributes: [{ key: 'nope', values: ['x'] }] } } });
    expect(attr.statusCode).toBe(422);
    expect(attr.json().errors[0].field).toBe('attr.nope');
    const missing = await selfServe(staff.token, { scope: { type: 'project', projectId: 'no-such-project' } });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toEqual([{ field: 'scope.projectId', message: 'is not a project of this institution' }]);
    const employerUser = await h.user(t, 'employer_user');
    expect((await selfServe(employerUser.token, { scope: { type: 'contacts', filters: {} } })).statusCode).toBe(403);
    expect(await h.count('exports')).toBe(before);
  });

  it("answers 404 for another institution's exports and projects", async () => {
    const res = await selfServe(staff.token, { scope: { type: 'contacts', filters: { q: 'alan' } } });
    const id = res.json().id;
    const stranger = await h.tenant();
    for (const [method, url] of [
      ['GET', `/api/exports/${id}`],
      ['POST', `/api/exports/${id}/link`],
      ['POST', `/api/exports/${id}/approve`],
      ['POST', `/api/exports/${id}/refuse`],
    ] as const) {
      const r = await h.request(stranger.admin.token, { method, url, ...(method === 'POST' && url.endsWith('refuse') ? { payload: { note: 'x' } } : {}) });
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(r.body).not.toContain('alan');
    }
    const list = await h.request(stranger.admin.token, { method: 'GET', url: '/api/exports' });
    expect(list.json().items.map((e: { id: string }) => e.id)).not.toContain(id);
    // another staff member of the same institution does not see someone else's export either
    expect((await h.request(other.token, { method: 'GET', url: `/api/exports/${id}` })).statusCode).toBe(404);
    const project = await h.request(staff.token, { method: 'POST', url: '/api/projects', payload: { name: 'Mine' } });
    expect((await h.request(stranger.admin.token, { method: 'GET', url: `/api/projects/${project.json().id}` })).statusCode).toBe(404);
    const cross = await selfServe(stranger.admin.token, { scope: { type: 'project', projectId: project.json().id } });
    expect(cross.statusCode).toBe(422);
  });

  it('gives the file to exactly one of two simultaneous downloads', async () => {
    const res = await selfServe(staff.token, { scope: { type: 'contacts', filters: { q: 'ada' } } });
    await work(h);
    const { token } = (await h.request(staff.token, { method: 'POST', url: `/api/exports/${res.json().id}/link` })).json();
    const [a, b] = await Promise.all([download(h, token), download(h, token)]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 410]);
    const winner = a.statusCode === 200 ? a : b;
    expect(csvObjects((await unzip(winner.rawPayload))['contacts.csv']).map((r) => r.first_name)).toEqual(['Ada']);
    expect(fs.existsSync(exportFilePath(h.ctx, res.json().id))).toBe(false);
  });

  it('destroys an expired export: the link answers 410 and the file and key are gone', async () => {
    const res = await selfServe(staff.token, { scope: { type: 'contacts', filters: { q: 'grace' } } });
    const id = res.json().id;
    await work(h);
    const { token, expiresAt } = (await h.request(staff.token, { method: 'POST', url: `/api/exports/${id}/link` })).json();
    expect(Date.parse(expiresAt) - h.clock.now().getTime()).toBe(7 * 86_400_000);
    expect(fs.existsSync(exportFilePath(h.ctx, id))).toBe(true);

    h.clock.advanceDays(7);
    await work(h); // the periodic task
    expect(fs.existsSync(exportFilePath(h.ctx, id))).toBe(false);
    expect(await h.ctx.db.selectFrom('export_keys').select('export_id').where('export_id', '=', id).executeTakeFirst()).toBeUndefined();
    const row = await h.ctx.db.selectFrom('exports').select(['status', 'downloaded_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'destroyed', downloaded_at: null });
    const late = await download(h, token);
    expect(late.statusCode).toBe(410);
    expect(late.json().detail).toBe(LINK_EXPIRED);
    const actions = (await listAudit(h.ctx, { institutionId: t.institutionId, targetId: id, limit: 20 })).map((a) => a.action);
    expect(actions.slice(0, 2)).toEqual(['export.destroyed', 'export.expired']);
  });

  it('expires a link used after its expiry even before the periodic task ran', async () => {
    const res = await selfServe(staff.token, { scope: { type: 'contacts', filters: { q: 'alan' } } });
    await work(h);
    const { token } = (await h.request(staff.token, { method: 'POST', url: `/api/exports/${res.json().id}/link` })).json();
    h.clock.advanceDays(8);
    const late = await download(h, token);
    expect(late.statusCode).toBe(410);
    expect(fs.existsSync(exportFilePath(h.ctx, res.json().id))).toBe(false);
    expect((await download(h, 'lx_' + 'A'.repeat(43))).statusCode).toBe(404);
  });

  it('fails an export whose production job was cancelled, keeping no key', async () => {
    const res = await selfServe(staff.token, { scope: { type: 'contacts', filters: { q: 'alan' } } });
    const cancelled = await h.request(t.admin.token, { method: 'POST', url: `/api/jobs/${res.json().jobId}/cancel` });
    expect(cancelled.json().status).toBe('cancelled');
    await work(h);
    const row = await h.ctx.db.selectFrom('exports').select(['status', 'scope']).where('id', '=', res.json().id).executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    expect(row.scope).not.toContain('alan');
    expect(await h.ctx.db.selectFrom('export_keys').select('export_id').where('export_id', '=', res.json().id).executeTakeFirst()).toBeUndefined();
    expect(fs.existsSync(exportFilePath(h.ctx, res.json().id))).toBe(false);
  });

  it('lets platform support change the settings, not tenant admins', async () => {
    const support = await platformUser(h, 'support');
    const headers = { 'x-lethe-institution': t.institutionId };
    const denied = await h.request(t.admin.token, { method: 'PUT', url: '/api/export-settings', payload: { selfServeLimit: 5000 } });
    expect(denied.statusCode).toBe(403);
    const bad = await support.session.request({ method: 'PUT', url: '/api/export-settings', headers, payload: { linkTtlDays: 0, scaledApproverEmail: 'nope' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['linkTtlDays', 'scaledApproverEmail']);
    const ok = await support.session.request({ method: 'PUT', url: '/api/export-settings', headers, payload: { linkTtlDays: 3 } });
    expect(ok.json()).toEqual({ selfServeLimit: 2000, linkTtlDays: 3, scaledApproverEmail: null, scaledApproverName: null });
    await updateExportSettings(h.ctx.db, t.institutionId, { linkTtlDays: 7 });
  });

  it('keeps personal data out of the logs', () => {
    const logs = h.logLines.join('\n');
    for (const secret of ['Lovelace', 'ada@example.net', 'Turing', 'grace@example.net', 'lx_']) expect(logs).not.toContain(secret);
  });
});
