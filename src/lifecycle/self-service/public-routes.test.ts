import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type Harness, type SeededTenant } from '../../../test/support/harness.ts';
import { startSmtpSink } from '../../../test/support/smtp.ts';
import { contactsApi } from '../../../test/support/contacts.ts';
import { listAudit } from '../../audit/audit-log.ts';
import { dispatchDueMail } from '../../mail/dispatcher.ts';
import { smtpTransport } from '../../mail/transport.ts';
import { settleErasureNotices } from '../erasure-notices.ts';
import { CODE_SENT } from './profile-access.ts';

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

async function deliver(h: Harness): Promise<void> {
  const transport = smtpTransport(smtp.url);
  try {
    await dispatchDueMail(h.ctx, transport);
  } finally {
    transport.close();
  }
}

async function slugOf(h: Harness, t: SeededTenant): Promise<string> {
  return (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow()).slug;
}

const base = (slug: string) => `/api/public/institutions/${slug}/profile`;

/** Asks for a code the way the public page does, and reads it from the email that arrives. */
async function requestCode(h: Harness, slug: string, email: string, ip = '10.0.0.1'): Promise<string | null> {
  const before = smtp.received.length;
  const res = await h.app.inject({ method: 'POST', url: `${base(slug)}/code`, payload: { email }, remoteAddress: ip });
  expect(res.statusCode, res.body).toBe(202);
  expect(res.json()).toEqual({ detail: CODE_SENT });
  await deliver(h);
  const mail = smtp.received.slice(before).find((m) => m.to.toLowerCase().includes(email.toLowerCase()));
  return mail ? /\b(\d{6})\b/.exec(mail.text)![1] : null;
}

/** Asks for a code and returns the magic link of the email that arrives. */
async function requestLink(h: Harness, slug: string, email: string, ip: string): Promise<string> {
  const before = smtp.received.length;
  expect((await h.app.inject({ method: 'POST', url: `${base(slug)}/code`, payload: { email }, remoteAddress: ip })).statusCode).toBe(202);
  await deliver(h);
  const mail = smtp.received.slice(before).find((m) => m.to.toLowerCase().includes(email.toLowerCase()))!;
  return /(\S+#link=\S+)/.exec(mail.text)![1];
}

const linkTokenOf = (link: string) => link.split('#link=')[1];

async function openWithLink(h: Harness, slug: string, token: string) {
  return h.app.inject({ method: 'POST', url: `${base(slug)}/link`, payload: { token } });
}

async function signIn(h: Harness, slug: string, email: string, code: string) {
  return h.app.inject({ method: 'POST', url: `${base(slug)}/session`, payload: { email, code } });
}

describeEachEngine('self-service profile and Delete Account (seed 000)', (h) => {
  it('opens the profile with an emailed one-time code, and Delete Account soft-deletes it by default; staff can restore it', async () => {
    const t = await h.tenant();
    const slug = await slugOf(h, t);
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Pat', lastName: 'Public', email: 'pat.public@example.org' });

    const code = await requestCode(h, slug, 'Pat.Public@example.org');
    expect(code).toMatch(/^\d{6}$/);
    const stored = await h.ctx.db.selectFrom('contact_access_codes').select('code_hash').where('contact_id', '=', c.id).executeTakeFirstOrThrow();
    expect(stored.code_hash).not.toContain(code!);

    const session = await signIn(h, slug, 'pat.public@example.org', code!);
    expect(session.statusCode, session.body).toBe(200);
    const { token, expiresAt } = session.json();
    expect(expiresAt).toBe(new Date(h.clock.now().getTime() + 15 * 60_000).toISOString());
    const cookie = session.cookies.find((k) => k.name === 'lethe_contact')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The code works once.
    expect((await signIn(h, slug, 'pat.public@example.org', code!)).statusCode).toBe(422);

    const profile = await h.app.inject({ method: 'GET', url: base(slug), headers: { 'x-lethe-contact-session': token } });
    expect(profile.json()).toMatchObject({ id: c.id, firstName: 'Pat', email: 'pat.public@example.org', deleteAccount: 'soft' });
    expect((await h.app.inject({ method: 'GET', url: base(slug), cookies: { lethe_contact: token } })).statusCode).toBe(200);

    const del = await h.app.inject({ method: 'DELETE', url: base(slug), cookies: { lethe_contact: token } });
    expect(del.statusCode, del.body).toBe(200);
    expect(del.json()).toEqual({ outcome: 'disabled', confirmationEmail: false });
    expect((await h.app.inject({ method: 'GET', url: base(slug), cookies: { lethe_contact: token } })).statusCode).toBe(401);
    expect(await api.get(`/api/contacts/${c.id}/lifecycle`)).toMatchObject({ status: 'disabled' });
    expect((await api.list('')).items.map((x: { id: string }) => x.id)).not.toContain(c.id);
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.disable', targetId: c.id, limit: 1 });
    expect(entry.actorLabel).toBe(`contact:${c.id}`);
    // A disabled profile cannot be opened again; the answer does not say so.
    expect(await requestCode(h, slug, 'pat.public@example.org')).toBeNull();

    expect((await api.call('POST', `/api/contacts/${c.id}/restore`)).json().lifecycle.status).toBe('active');
  });

  it('opens the profile with the magic link of the same email: once, until the code expires, only the newest, only in its institution', async () => {
    const t = await h.tenant();
    const other = await h.tenant();
    const slug = await slugOf(h, t);
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Link', lastName: 'Clicker', email: 'link.clicker@example.org' });

    const link = await requestLink(h, slug, 'link.clicker@example.org', '10.1.0.1');
    expect(link.startsWith(`${h.ctx.config.publicUrl}/profile/${slug}#link=`)).toBe(true);
    const token = linkTokenOf(link);
    // Nothing about the link is stored: only the code's keyed hash, as before.
    expect(JSON.stringify(await h.ctx.db.selectFrom('contact_access_codes').selectAll().where('contact_id', '=', c.id).execute())).not.toContain(token.split('.')[1]);
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [tampered, 'not-a-token', `${token.split('.')[0]}.${'x'.repeat(43)}`]) {
      const res = await openWithLink(h, slug, bad);
      expect(res.statusCode, bad).toBe(422);
      expect(res.json()).toMatchObject({ detail: 'This link is not valid, was already used or has expired; ask for a new code.', errors: [{ field: 'token' }] });
    }
    expect((await openWithLink(h, await slugOf(h, other), token)).statusCode).toBe(422);

    const opened = await openWithLink(h, slug, token);
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.cookies.find((k) => k.name === 'lethe_contact')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const session = opened.json().token;
    expect((await h.app.inject({ method: 'GET', url: base(slug), headers: { 'x-lethe-contact-session': session } })).json()).toMatchObject({ id: c.id, email: 'link.clicker@example.org' });
    expect((await openWithLink(h, slug, token)).statusCode).toBe(422); // works once
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.profile_sign_in', targetId: c.id, limit: 1 });
    expect(entry).toMatchObject({ actorLabel: `contact:${c.id}`, meta: { via: 'link' } });

    // A newer code retires the older link; a link dies with its code after 10 minutes.
    const older = linkTokenOf(await requestLink(h, slug, 'link.clicker@example.org', '10.1.0.2'));
    const newer = linkTokenOf(await requestLink(h, slug, 'link.clicker@example.org', '10.1.0.3'));
    expect((await openWithLink(h, slug, older)).statusCode).toBe(422);
    h.clock.advance(10 * 60_000 + 1);
    expect((await openWithLink(h, slug, newer)).statusCode).toBe(422);

    // Signed in by link, Delete Account works as with a code.
    const fresh = (await openWithLink(h, slug, linkTokenOf(await requestLink(h, slug, 'link.clicker@example.org', '10.1.0.4')))).json().token;
    const del = await h.app.inject({ method: 'DELETE', url: base(slug), headers: { 'x-lethe-contact-session': fresh } });
    expect(del.json()).toEqual({ outcome: 'disabled', confirmationEmail: false });
    expect(await api.get(`/api/contacts/${c.id}/lifecycle`)).toMatchObject({ status: 'disabled' });
  });

  it('gives the same answer for an unknown address and sends nothing', async () => {
    const t = await h.tenant();
    const slug = await slugOf(h, t);
    const outbox = await h.count('outbox_messages');
    expect(await requestCode(h, slug, 'nobody@example.org', '10.0.0.2')).toBeNull();
    expect(await h.count('outbox_messages')).toBe(outbox);
    const res = await signIn(h, slug, 'nobody@example.org', '123456');
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ detail: 'The code is wrong or has expired; ask for a new one.', errors: [{ field: 'code' }] });
    expect((await h.app.inject({ method: 'POST', url: `/api/public/institutions/no-such-place/profile/code`, payload: { email: 'x@example.org' } })).statusCode).toBe(404);
  });

  it('refuses expired codes, locks a code after five wrong tries, and ends sessions after 15 minutes', async () => {
    const t = await h.tenant();
    const slug = await slugOf(h, t);
    const c = await contactsApi(h, t.admin.token).createContact({ firstName: 'Lim', lastName: 'Ited', email: 'limited@example.org' });
    const first = await requestCode(h, slug, 'limited@example.org', '10.0.0.3');
    h.clock.advance(10 * 60_000 + 1);
    expect((await signIn(h, slug, 'limited@example.org', first!)).statusCode).toBe(422);

    const second = await requestCode(h, slug, 'limited@example.org', '10.0.0.3');
    const wrong = second === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) expect((await signIn(h, slug, 'limited@example.org', wrong)).statusCode).toBe(422);
    expect((await signIn(h, slug, 'limited@example.org', second!)).statusCode).toBe(422);
    const row = await h.ctx.db.selectFrom('contact_access_codes').select('attempts').where('contact_id', '=', c.id).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(row.attempts).toBe(5);

    const third = await requestCode(h, slug, 'limited@example.org', '10.0.0.3');
    const { token } = (await signIn(h, slug, 'limited@example.org', third!)).json();
    h.clock.advance(15 * 60_000 + 1);
    const expired = await h.app.inject({ method: 'GET', url: base(slug), headers: { 'x-lethe-contact-session': token } });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().detail).toBe('Your profile session has ended; ask for a new code.');
  });

  it("rate-limits code requests per address, and a session opens only its own institution's profile", async () => {
    const t = await h.tenant();
    const other = await h.tenant();
    const slug = await slugOf(h, t);
    await contactsApi(h, t.admin.token).createContact({ firstName: 'Rate', lastName: 'Limited', email: 'rate@example.org' });
    let last = 0;
    for (let i = 0; i < 6; i++) last = (await h.app.inject({ method: 'POST', url: `${base(slug)}/code`, payload: { email: 'rate@example.org' }, remoteAddress: '10.9.9.9' })).statusCode;
    expect(last).toBe(429);
    const bad = await h.app.inject({ method: 'POST', url: `${base(slug)}/code`, payload: { email: 'not an email' }, remoteAddress: '10.9.9.8' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('email');

    const c2 = await contactsApi(h, t.admin.token).createContact({ firstName: 'Cross', lastName: 'Tenant', email: 'cross@example.org' });
    const code = await requestCode(h, slug, 'cross@example.org', '10.0.0.4');
    const { token } = (await signIn(h, slug, 'cross@example.org', code!)).json();
    const foreign = await h.app.inject({ method: 'GET', url: base(await slugOf(h, other)), headers: { 'x-lethe-contact-session': token } });
    expect(foreign.statusCode).toBe(401);
    expect((await h.app.inject({ method: 'DELETE', url: base(await slugOf(h, other)), headers: { 'x-lethe-contact-session': token } })).statusCode).toBe(401);
    expect(await contactsApi(h, t.admin.token).get(`/api/contacts/${c2.id}/lifecycle`)).toMatchObject({ status: 'active' });
  });

  it('where the institution chose expunge, Delete Account erases the profile and emails a confirmation', async () => {
    const t = await h.tenant();
    const slug = await slugOf(h, t);
    const api = contactsApi(h, t.admin.token);
    expect((await api.call('PATCH', '/api/lifecycle/settings', { selfServiceDelete: 'expunge' })).json()).toEqual({ selfServiceDelete: 'expunge', suppressionList: false });
    const c = await api.createContact({ firstName: 'Erase', lastName: 'Me', email: 'erase.me@example.org' });
    await api.call('POST', `/api/contacts/${c.id}/notes`, { body: 'private note' });
    const code = await requestCode(h, slug, 'erase.me@example.org', '10.0.0.5');
    const { token } = (await signIn(h, slug, 'erase.me@example.org', code!)).json();
    expect((await h.app.inject({ method: 'GET', url: base(slug), headers: { 'x-lethe-contact-session': token } })).json().deleteAccount).toBe('expunge');

    const del = await h.app.inject({ method: 'DELETE', url: base(slug), headers: { 'x-lethe-contact-session': token } });
    expect(del.json()).toEqual({ outcome: 'expunged', confirmationEmail: true });
    expect((await api.call('GET', `/api/contacts/${c.id}`)).statusCode).toBe(404);
    const before = smtp.received.length;
    await deliver(h);
    await settleErasureNotices(h.ctx);
    expect(smtp.received.slice(before).map((m) => m.subject)).toContain('Your data has been erased');
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.expunge', targetId: c.id, limit: 1 });
    expect(entry).toMatchObject({ actorLabel: `contact:${c.id}`, meta: { reason: 'contact_request', via: 'self_service', confirmationEmail: true } });
    const settingsChange = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'lifecycle.settings', limit: 1 });
    expect(settingsChange[0]).toMatchObject({ before: { selfServiceDelete: 'soft' }, after: { selfServiceDelete: 'expunge' } });
  });
});
