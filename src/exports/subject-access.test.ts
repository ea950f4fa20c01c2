import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { download, tokenIn, unzip, work } from '../../test/support/exports.ts';
import { smtpTransport } from '../mail/transport.ts';
import { dataKeyFor } from '../audit/data-keys.ts';
import { seal } from '../security/aead.ts';
import { newId } from '../ids.ts';
import { exportFilePath } from './files.ts';
import { confirmSubjectAccessCode, requestSubjectAccessCode } from './subject-access.ts';
import { destroyExportsHolding } from './exports.ts';

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

describeEachEngine('subject access (right of access)', (h) => {
  let t: SeededTenant;
  let officer: Awaited<ReturnType<typeof h.user>>;
  let contactId: string;
  const email = 'zoe.subject@example.net';

  const deliver = async () => {
    const transport = smtpTransport(smtp.url);
    try {
      await work(h, transport);
    } finally {
      transport.close();
    }
  };
  const mailTo = (to: string) => smtp.received.filter((m) => m.to.includes(to));

  beforeAll(async () => {
    t = await h.tenant();
    officer = await h.user(t, 'privacy_officer');
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'graduation', label: 'Graduation year', type: 'number' });
    contactId = (await api.createContact({ firstName: 'Zoë', lastName: '<Subject>', email, attributes: { graduation: 2024 } })).id;
    await api.call('PUT', `/api/contacts/${contactId}/consent`, { optInStatus: 'opted_in', authorizations: { newsletter: true, events: false } });
    h.clock.advance(60_000);
    await api.call('PUT', `/api/contacts/${contactId}/consent`, { authorizations: { events: true } });
    expect((await api.call('POST', `/api/contacts/${contactId}/notes`, { body: 'Met at the spring fair' })).statusCode).toBe(201);
    const project = await h.request(t.admin.token, { method: 'POST', url: '/api/projects', payload: { name: 'Spring fair leads', contactIds: [contactId] } });
    expect(project.statusCode).toBe(201);
    // An application, sealed with the person's data key as intake does.
    const applicationId = newId();
    const key = await h.ctx.db.transaction().execute((trx) => dataKeyFor(trx, h.ctx.secrets.masterKey, contactId, t.institutionId, h.clock.now().toISOString()));
    const now = h.clock.now().toISOString();
    await h.ctx.db
      .insertInto('applications')
      .values({
        id: applicationId,
        institution_id: t.institutionId,
        form_id: null,
        contact_id: contactId,
        organization_id: null,
        status: 'submitted' as never,
        submitted_enc: seal(key, JSON.stringify({ firstName: 'Zoë', lastName: '<Subject>', email, mobilePhone: null, ssnHashes: { full: 'abc' } }), `application:${applicationId}`),
        created_at: now,
        updated_at: now,
      } as never)
      .execute();
  });

  it('staff produce a person’s copy: JSON and readable HTML, delivered once to the person, then destroyed', async () => {
    const staff = await h.user(t, 'staff');
    expect((await h.request(staff.token, { method: 'POST', url: `/api/contacts/${contactId}/subject-access` })).statusCode).toBe(403);
    const res = await h.request(officer.token, { method: 'POST', url: `/api/contacts/${contactId}/subject-access` });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().id;
    expect(res.json()).toMatchObject({ kind: 'subject_access', status: 'approved', format: 'json' });
    await deliver();
    const mail = mailTo(email).find((m) => m.text.includes(id))!;
    expect(mail.subject).toBe('Your personal data is ready to download');
    expect(mailTo(officer.email).some((m) => m.text.includes(id) && /ready/.test(m.subject))).toBe(false);

    const got = await download(h, tokenIn(mail.text));
    expect(got.statusCode, got.body).toBe(200);
    expect(got.headers['content-disposition']).toMatch(/personal-data-\d{4}-\d{2}-\d{2}\.zip/);
    const zip = await unzip(got.rawPayload);
    expect(Object.keys(zip).sort()).toEqual(['manifest.json', 'personal-data.html', 'personal-data.json']);
    const [record] = JSON.parse(zip['personal-data.json']).records;
    expect(record.profile).toMatchObject({ firstName: 'Zoë', lastName: '<Subject>', email, optInStatus: 'opted_in', attributes: { graduation: 2024 } });
    expect(record.consent.authorizations).toMatchObject({ newsletter: { granted: true }, events: { granted: true } });
    expect(record.consent.authorizations.events.updatedAt).not.toBe(record.consent.authorizations.newsletter.updatedAt);
    expect(record.consent.history.length).toBeGreaterThanOrEqual(2);
    expect(record.notes).toMatchObject([{ body: 'Met at the spring fair' }]);
    expect(record.activity.map((a: { type: string }) => a.type)).toEqual(expect.arrayContaining(['contact.created', 'note.added', 'project.contact_added']));
    expect(record.changeHistory.map((c: { action: string }) => c.action)).toEqual(expect.arrayContaining(['contact.create', 'contact.consent']));
    expect(record.projects).toMatchObject([{ name: 'Spring fair leads' }]);
    const [application] = record.otherRecords.applications;
    expect(application.submitted).toMatchObject({ firstName: 'Zoë', email, ssnHashes: '(held in protected form; never shown)' });
    expect(zip['personal-data.html']).toContain('&lt;Subject&gt;');
    expect(zip['personal-data.html']).toContain('Met at the spring fair');
    expect(zip['personal-data.html']).not.toContain('<Subject>');

    expect(fs.existsSync(exportFilePath(h.ctx, id))).toBe(false);
    expect(await h.ctx.db.selectFrom('export_keys').select('export_id').where('export_id', '=', id).executeTakeFirst()).toBeUndefined();
    expect((await download(h, tokenIn(mail.text))).statusCode).toBe(410);
    await deliver();
    expect(mailTo(officer.email).some((m) => m.text.includes(id) && /downloaded/.test(m.subject))).toBe(true);
  });

  it('refuses unknown, foreign and unreachable contacts', async () => {
    const stranger = await h.tenant();
    expect((await h.request(stranger.admin.token, { method: 'POST', url: `/api/contacts/${contactId}/subject-access` })).statusCode).toBe(404);
    const noEmail = await contactsApi(h, t.admin.token).createContact({ firstName: 'No', lastName: 'Mail' });
    const res = await h.request(officer.token, { method: 'POST', url: `/api/contacts/${noEmail.id}/subject-access`, payload: {} });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].field).toBe('deliverTo');
    const toMe = await h.request(officer.token, { method: 'POST', url: `/api/contacts/${noEmail.id}/subject-access`, payload: { deliverTo: 'requester' } });
    expect(toMe.statusCode).toBe(202);
  });

  it('public flow: a code to the address, then a one-time link; unknown and erased addresses get the same answer and nothing else', async () => {
    const before = smtp.received.length;
    const known = await requestSubjectAccessCode(h.ctx, t.institutionId, '  Zoe.Subject@Example.net ');
    const unknown = await requestSubjectAccessCode(h.ctx, t.institutionId, 'nobody@example.net');
    expect(unknown.message).toBe(known.message);
    await deliver();
    const codes = smtp.received.slice(before).filter((m) => /code/.test(m.subject));
    expect(codes.map((m) => m.to)).toEqual([email]);
    const code = /\b(\d{6})\b/.exec(codes[0].text)![1];

    await expect(confirmSubjectAccessCode(h.ctx, t.institutionId, { requestId: unknown.requestId, email: 'nobody@example.net', code })).rejects.toMatchObject({ status: 422 });
    await expect(confirmSubjectAccessCode(h.ctx, t.institutionId, { requestId: known.requestId, email, code: code === '000000' ? '111111' : '000000' })).rejects.toMatchObject({
      status: 422,
      errors: [{ field: 'code' }],
    });
    await expect(confirmSubjectAccessCode(h.ctx, t.institutionId, { requestId: known.requestId, email: 'other@example.net', code })).rejects.toMatchObject({ status: 422 });
    const attempts = await h.ctx.db.selectFrom('subject_access_requests').select('attempts').where('id', '=', known.requestId).executeTakeFirstOrThrow();
    expect(attempts.attempts).toBe(1);
    const stored = await h.ctx.db.selectFrom('subject_access_requests').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain('example.net');

    const ok = await confirmSubjectAccessCode(h.ctx, t.institutionId, { requestId: known.requestId, email, code });
    expect(ok.exportIds).toHaveLength(1);
    await expect(confirmSubjectAccessCode(h.ctx, t.institutionId, { requestId: known.requestId, email, code })).rejects.toMatchObject({ status: 422 });
    await deliver();
    const link = mailTo(email).find((m) => m.text.includes(ok.exportIds[0]))!;
    const zip = await unzip((await download(h, tokenIn(link.text))).rawPayload);
    expect(JSON.parse(zip['personal-data.json']).records[0].profile.email).toBe(email);

    // An erased person (row gone) and an anonymised one (no address left) get the generic answer and no mail.
    const api = contactsApi(h, t.admin.token);
    const gone = await api.createContact({ firstName: 'Gone', lastName: 'Person', email: 'gone@example.net' });
    const anon = await api.createContact({ firstName: 'Anon', lastName: 'Person', email: 'anon@example.net' });
    await h.ctx.db.deleteFrom('activity_events').where('contact_id', '=', gone.id).execute();
    await h.ctx.db.deleteFrom('contacts').where('id', '=', gone.id).execute();
    await h.ctx.db.updateTable('contacts').set({ email: null, email_normalized: null, first_name: 'Anonymised', last_name: 'Anonymised' }).where('id', '=', anon.id).execute();
    await deliver();
    const mark = smtp.received.length;
    for (const address of ['gone@example.net', 'anon@example.net']) {
      expect((await requestSubjectAccessCode(h.ctx, t.institutionId, address)).message).toBe(known.message);
    }
    await deliver();
    expect(smtp.received.slice(mark)).toEqual([]);
    await expect(requestSubjectAccessCode(h.ctx, t.institutionId, 'not an address')).rejects.toMatchObject({ status: 422, errors: [{ field: 'email' }] });
  });

  it('an erasure destroys every undelivered export that may hold the person, including one still being produced', async () => {
    const staff = await h.user(t, 'staff');
    const ready = await h.request(staff.token, { method: 'POST', url: '/api/exports', payload: { scope: { type: 'contacts', filters: {} } } });
    await work(h);
    const { token } = (await h.request(staff.token, { method: 'POST', url: `/api/exports/${ready.json().id}/link` })).json();
    const queued = await h.request(staff.token, { method: 'POST', url: '/api/exports', payload: { scope: { type: 'contacts', filters: {} } } });
    expect(fs.existsSync(exportFilePath(h.ctx, ready.json().id))).toBe(true);

    const destroyed = await h.ctx.db.transaction().execute((trx) => destroyExportsHolding(h.ctx, trx, t.institutionId, [contactId]));
    expect(destroyed).toBeGreaterThanOrEqual(2);
    await work(h);
    for (const id of [ready.json().id, queued.json().id]) {
      const row = await h.ctx.db.selectFrom('exports').select(['status']).where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.status).toBe('destroyed');
      expect(fs.existsSync(exportFilePath(h.ctx, id))).toBe(false);
      expect(await h.ctx.db.selectFrom('export_keys').select('export_id').where('export_id', '=', id).executeTakeFirst()).toBeUndefined();
    }
    const job = await h.ctx.db.selectFrom('jobs').select('status').where('id', '=', queued.json().jobId).executeTakeFirstOrThrow();
    expect(job.status).toBe('cancelled');
    const late = await download(h, token);
    expect(late.statusCode).toBe(410);
    expect(late.json().detail).toMatch(/erased/);
  });

  it('keeps personal data out of the logs', () => {
    const logs = h.logLines.join('\n');
    for (const secret of [email, 'Zoë', 'spring fair', 'gone@example.net']) expect(logs).not.toContain(secret);
  });
});
