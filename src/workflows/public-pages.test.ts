import { expect, it } from 'vitest';
import { describeEachEngine, type Harness, type SeededTenant } from '../../test/support/harness.ts';
import { listActivity } from '../activity/events.ts';
import { runDueWorkflowSteps } from './engine.ts';
import { signLink, verifyLink } from './links.ts';
import { dispatchDueMail } from '../mail/dispatcher.ts';
import type { MailTransport, OutgoingMail } from '../mail/transport.ts';

async function emailed(h: Harness, t: SeededTenant, steps: unknown[]): Promise<{ contactId: string; text: string }> {
  const wf = await h.request(t.admin.token, { method: 'POST', url: '/api/workflows', payload: { name: 'links', trigger: { type: 'manual' }, steps } });
  expect(wf.statusCode, wf.body).toBe(201);
  const c = await h.request(t.admin.token, { method: 'POST', url: '/api/contacts', payload: { firstName: 'Link', lastName: 'Clicker', email: `clicker.${Math.random().toString(36).slice(2, 8)}@links.example` } });
  const contactId = c.json().id as string;
  await h.request(t.admin.token, { method: 'POST', url: `/api/workflows/${wf.json().id}/enrollments`, payload: { filter: { ids: [contactId] } } });
  await runDueWorkflowSteps(h.ctx);
  const [mail] = await h.ctx.db.selectFrom('outbox_messages').selectAll().where('contact_id', '=', contactId).execute();
  return { contactId, text: mail.text_body! };
}

const pathIn = (text: string, prefix: string) => new RegExp(`${prefix}[A-Za-z0-9_.-]+`).exec(text)![0];

it('signs links per contact and refuses a changed byte, another kind or an expired one', () => {
  const clock = { now: () => new Date('2026-01-01T00:00:00Z') };
  const ctx = { clock, secrets: { linkKey: Buffer.alloc(32, 7) } } as Parameters<typeof signLink>[0];
  const token = signLink(ctx, { kind: 'opt_in', institutionId: 'i', contactId: 'c', workflowId: null }, 10);
  expect(verifyLink(ctx, token, 'opt_in')).toMatchObject({ ok: true, claims: { contactId: 'c' } });
  expect(verifyLink(ctx, token, 'renew')).toEqual({ ok: false, reason: 'invalid' });
  const [body, mac] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), contactId: 'someone-else' })).toString('base64url');
  expect(verifyLink(ctx, `${forged}.${mac}`, 'opt_in')).toEqual({ ok: false, reason: 'invalid' });
  const flipped = mac.slice(0, 10) + (mac[10] === 'A' ? 'B' : 'A') + mac.slice(11);
  expect(verifyLink(ctx, `${body}.${flipped}`, 'opt_in')).toEqual({ ok: false, reason: 'invalid' });
  const later = { ...ctx, clock: { now: () => new Date('2026-01-12T00:00:00Z') } } as never;
  expect(verifyLink(later, token, 'opt_in')).toEqual({ ok: false, reason: 'expired' });
});

describeEachEngine('tracked links and consent pages', (h) => {
  it('records a tracked link click as activity and redirects; a tampered link gets a clear page', async () => {
    const t = await h.tenant();
    const { contactId, text } = await emailed(h, t, [
      { type: 'send_email', send_email: { category: 'marketing', subject: 'Jobs', text: 'See {{links.jobs}}', links: { jobs: 'https://careers.example.org/jobs?x=1' } } },
    ]);
    const link = pathIn(text, '/p/l/');
    const click = await h.app.inject({ method: 'GET', url: link });
    expect(click.statusCode).toBe(302);
    expect(click.headers.location).toBe('https://careers.example.org/jobs?x=1');
    const events = await listActivity(h.ctx.db, t.institutionId, contactId, { limit: 10, types: ['link.clicked'] });
    expect(events).toMatchObject([{ type: 'link.clicked', data: { kind: 'tracked' } }]);

    const tampered = await h.app.inject({ method: 'GET', url: `${link.slice(0, -3)}xyz` });
    expect(tampered.statusCode).toBe(400);
    expect(tampered.headers['content-type']).toContain('text/html');
    expect(tampered.body).toContain('This link is not valid');
    expect(tampered.body).not.toMatch(/stack|Error:/);

    h.clock.advanceDays(400);
    const expired = await h.app.inject({ method: 'GET', url: link });
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('This link has expired');
  });

  it('serves the consent-renewal page (seed 004): the click counts as activity, the checkbox records consent', async () => {
    const t = await h.tenant();
    const { contactId, text } = await emailed(h, t, [
      { type: 'send_email', send_email: { category: 'marketing', subject: 'Still there?', text: 'Hello {{firstName}}, click {{consentRenewalUrl}}' } },
    ]);
    const link = pathIn(text, '/p/renew/');
    const pageRes = await h.app.inject({ method: 'GET', url: link });
    expect(pageRes.statusCode).toBe(200);
    expect(pageRes.body).toContain('Thank you for your continued interest!');
    expect(pageRes.headers['content-security-policy']).toContain("default-src 'none'");
    expect(await listActivity(h.ctx.db, t.institutionId, contactId, { limit: 10, types: ['link.clicked'] })).toMatchObject([{ data: { kind: 'consent_renewal' } }]);

    const confirmed = await h.app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'consent=yes' });
    expect(confirmed.statusCode).toBe(200);
    const profile = (await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${contactId}` })).json();
    expect(profile.optInStatus).toBe('opted_in');
    // The opt-in link is not a renewal link, nor the other way round.
    expect((await h.app.inject({ method: 'GET', url: link.replace('/p/renew/', '/p/opt-in/') })).statusCode).toBe(400);

    // Once the contact is gone, the page says so.
    await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${contactId}/expunge`, payload: { notify: false } });
    const gone = await h.app.inject({ method: 'GET', url: link });
    expect(gone.statusCode).toBe(410);
    expect(gone.body).toContain('We no longer hold this profile');
  });

  it('escapes merge fields in the HTML part and refuses marketing mail to an opted-out contact', async () => {
    const t = await h.tenant();
    const wf = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/workflows',
      payload: { name: 'esc', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'marketing', subject: 'Hi {{firstName}}', text: 'Hi {{firstName}}', html: '<p>Hi <b>{{firstName}}</b></p>' } }] },
    });
    const mk = async (firstName: string, optInStatus: string) =>
      (await h.request(t.admin.token, { method: 'POST', url: '/api/contacts', payload: { firstName, lastName: 'Esc', email: `${optInStatus}.${Math.random().toString(36).slice(2, 8)}@esc.example`, optInStatus } })).json().id as string;
    const markup = await mk('<script>x</script>', 'unknown');
    const out = await mk('Out', 'opted_out');
    await h.request(t.admin.token, { method: 'POST', url: `/api/workflows/${wf.json().id}/enrollments`, payload: { filter: { ids: [markup, out] } } });
    await runDueWorkflowSteps(h.ctx);
    const [m] = await h.ctx.db.selectFrom('outbox_messages').selectAll().where('contact_id', '=', markup).execute();
    expect(m.html_body).toMatch(/^<p>Hi <b>&lt;script&gt;x&lt;\/script&gt;<\/b><\/p>/);
    const [refused] = await h.ctx.db.selectFrom('outbox_messages').selectAll().where('contact_id', '=', out).execute();
    expect(refused).toMatchObject({ status: 'refused', to_address: null });
    const runs = (await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${out}/workflow-runs` })).json().items;
    expect(runs[0].steps[0].detail).toBe('not sent: the contact opted out');
  });

  it('puts an unsubscribe link in every marketing email (footer and one-click List-Unsubscribe header), none in transactional mail; one click opts out for good', async () => {
    const t = await h.tenant();
    const { contactId, text } = await emailed(h, t, [
      { type: 'send_email', send_email: { category: 'marketing', subject: 'News', text: 'Hello {{firstName}}', html: '<p>Hello</p>' } },
      { type: 'send_email', send_email: { category: 'transactional', subject: 'Receipt', text: 'Your receipt' } },
    ]);
    const footer = pathIn(text, '/p/unsubscribe/');
    const rows = await h.ctx.db.selectFrom('outbox_messages').selectAll().where('contact_id', '=', contactId).orderBy('subject').execute();
    expect(rows.map((r) => r.subject)).toEqual(['News', 'Receipt']);
    expect(rows[0].html_body).toContain(`href="${h.ctx.config.publicUrl}/p/unsubscribe/`);
    expect(rows[1].text_body).not.toContain('/p/unsubscribe/');

    const sent: OutgoingMail[] = [];
    const capture: MailTransport = { send: async (m) => void sent.push(m), close: () => {} };
    await dispatchDueMail(h.ctx, capture);
    const news = sent.find((m) => m.subject === 'News')!;
    expect(news.headers).toEqual({ 'List-Unsubscribe': expect.stringMatching(/^<http.*\/p\/unsubscribe\/[A-Za-z0-9_.-]+>$/), 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    expect(sent.find((m) => m.subject === 'Receipt')!.headers).toBeUndefined();

    // Opening the link changes nothing (mail scanners fetch links); the page offers the button.
    const page = await h.app.inject({ method: 'GET', url: footer });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<button type="submit">Unsubscribe</button>');
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${contactId}` })).json().optInStatus).toBe('unknown');

    // The mail client's one-click POST (RFC 8058) to the header's address.
    const oneClick = new URL(news.headers!['List-Unsubscribe'].slice(1, -1)).pathname;
    const done = await h.app.inject({ method: 'POST', url: oneClick, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('You are unsubscribed');
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${contactId}` })).json().optInStatus).toBe('opted_out');
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/audit?targetId=${contactId}&action=contact.consent` })).json().items).toHaveLength(1);
    // Again: nothing more happens.
    expect((await h.app.inject({ method: 'POST', url: footer })).body).toContain('You are unsubscribed');
    // A tampered link changes nothing.
    expect((await h.app.inject({ method: 'POST', url: `${footer.slice(0, -2)}xx` })).statusCode).toBe(400);
  });

  it('rate-limits the pages per client address', async () => {
    let last = 0;
    for (let i = 0; i < 70 && last !== 429; i++) last = (await h.app.inject({ method: 'GET', url: '/p/opt-in/not-a-token' })).statusCode;
    expect(last).toBe(429);
  });
});
