import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { download, tokenIn, unzip, work } from '../../test/support/exports.ts';
import { smtpTransport } from '../mail/transport.ts';
import { CONFIRMED, GENERIC_SENT, WRONG_CODE } from './subject-access.ts';

/**
 * The right of access as the person uses it, over HTTP with no account: the JSON API and the
 * server-rendered page, a code and then a one-time link arriving over a real SMTP connection,
 * and the same answer for an address that is unknown or was expunged.
 */

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

describeEachEngine('subject access, public pages', (h) => {
  let t: SeededTenant;
  let slug: string;
  const email = 'mia.public@example.net';

  const deliver = async () => {
    const transport = smtpTransport(smtp.url);
    try {
      await work(h, transport);
    } finally {
      transport.close();
    }
  };
  const newMail = (mark: number) => smtp.received.slice(mark);
  const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)![1];
  const api = (url: string, payload: object) => h.request(null, { method: 'POST', url: `/api/public/institutions/${slug}/subject-access/${url}`, payload });
  const form = (url: string, fields: Record<string, string>) =>
    h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });

  beforeAll(async () => {
    t = await h.tenant();
    slug = (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow()).slug;
    const contacts = contactsApi(h, t.admin.token);
    const mia = await contacts.createContact({ firstName: 'Mia', lastName: 'Public', email });
    expect((await contacts.call('POST', `/api/contacts/${mia.id}/notes`, { body: 'Asked about internships' })).statusCode).toBe(201);
  });

  it('API: a code to a known address only, the same answer for an unknown one, then the copy through a one-time link', async () => {
    const mark = smtp.received.length;
    const known = await api('code', { email: ' Mia.Public@Example.net ' });
    const unknown = await api('code', { email: 'nobody.public@example.net' });
    expect(known.statusCode, known.body).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(known.json().detail).toBe(GENERIC_SENT);
    expect(unknown.json().detail).toBe(GENERIC_SENT);
    expect(Object.keys(unknown.json()).sort()).toEqual(Object.keys(known.json()).sort());
    await deliver();
    expect(newMail(mark).map((m) => m.to)).toEqual([email]);
    const code = codeIn(newMail(mark)[0].text);

    const wrong = await api('confirm', { requestId: known.json().requestId, email, code: code === '000000' ? '111111' : '000000' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json()).toMatchObject({ detail: WRONG_CODE, errors: [{ field: 'code' }] });
    const guessForUnknown = await api('confirm', { requestId: unknown.json().requestId, email: 'nobody.public@example.net', code });
    expect(guessForUnknown.statusCode).toBe(422);
    expect(guessForUnknown.json().detail).toBe(WRONG_CODE);

    const ok = await api('confirm', { requestId: known.json().requestId, email, code });
    expect(ok.statusCode, ok.body).toBe(202);
    expect(ok.json()).toEqual({ detail: CONFIRMED });
    const linkMark = smtp.received.length;
    await deliver();
    const link = newMail(linkMark).find((m) => m.to.includes(email))!;
    expect(link.subject).toBe('Your personal data is ready to download');
    const got = await download(h, tokenIn(link.text));
    expect(got.statusCode).toBe(200);
    const zip = await unzip(got.rawPayload);
    expect(JSON.parse(zip['personal-data.json']).records[0]).toMatchObject({ profile: { email, firstName: 'Mia' }, notes: [{ body: 'Asked about internships' }] });
    expect(zip['personal-data.html']).toContain('Asked about internships');
    expect((await download(h, tokenIn(link.text))).statusCode).toBe(410);

    const bad = await api('code', { email: 'not an address' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].field).toBe('email');
    expect((await h.request(null, { method: 'POST', url: '/api/public/institutions/no-such-place/subject-access/code', payload: { email } })).statusCode).toBe(404);
  });

  it('an expunged person gets the answer anyone gets, and nothing by email', async () => {
    const contacts = contactsApi(h, t.admin.token);
    const gone = await contacts.createContact({ firstName: 'Gus', lastName: 'Gone', email: 'gus.gone@example.net' });
    const expunged = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${gone.id}/expunge`, payload: { reason: 'contact_request' } });
    expect(expunged.statusCode, expunged.body).toBe(200);
    await deliver(); // the expunge confirmation goes out first
    const mark = smtp.received.length;
    const res = await api('code', { email: 'gus.gone@example.net' });
    const stranger = await api('code', { email: 'never.here@example.net' });
    expect(res.statusCode).toBe(202);
    expect(res.json().detail).toBe(stranger.json().detail);
    await deliver();
    expect(newMail(mark)).toEqual([]);
  });

  it('page: the same two steps as plain HTML forms, then the link by email', async () => {
    const start = await h.app.inject({ method: 'GET', url: `/exports/my-data/${slug}` });
    expect(start.statusCode).toBe(200);
    expect(start.headers['content-type']).toMatch(/^text\/html/);
    expect(start.headers['cache-control']).toBe('no-store');
    expect(start.body).toContain(`action="/exports/my-data/${slug}"`);
    expect(start.body).toContain('name="email"');

    const invalid = await form(`/exports/my-data/${slug}`, { email: 'nope' });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.body).toContain('Enter a valid email address');

    const mark = smtp.received.length;
    const asked = await form(`/exports/my-data/${slug}`, { email });
    expect(asked.statusCode, asked.body).toBe(200);
    expect(asked.body).toContain(GENERIC_SENT);
    const requestId = /name="requestId" value="([^"]+)"/.exec(asked.body)![1];
    await deliver();
    const code = codeIn(newMail(mark).find((m) => m.to.includes(email))!.text);

    const wrong = await form(`/exports/my-data/${slug}/confirm`, { requestId, email, code: code === '000000' ? '111111' : '000000' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.body).toContain(WRONG_CODE);
    const done = await form(`/exports/my-data/${slug}/confirm`, { requestId, email, code });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.body).toContain(CONFIRMED);
    const linkMark = smtp.received.length;
    await deliver();
    const link = newMail(linkMark).find((m) => m.to.includes(email))!;
    const zip = await unzip((await download(h, tokenIn(link.text))).rawPayload);
    expect(Object.keys(zip).sort()).toEqual(['manifest.json', 'personal-data.html', 'personal-data.json']);

    expect((await h.app.inject({ method: 'GET', url: '/exports/my-data/no-such-place' })).statusCode).toBe(404);
  });

  it('keeps the addresses out of the logs', () => {
    const logs = h.logLines.join('\n');
    for (const secret of [email, 'gus.gone@example.net', 'nobody.public@example.net', 'Asked about internships']) expect(logs).not.toContain(secret);
  });
});
