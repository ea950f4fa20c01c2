import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { enqueueMail } from './outbox.ts';
import { dispatchDueMail, MAX_MAIL_ATTEMPTS } from './dispatcher.ts';
import { renderTemplate } from './template.ts';
import { smtpTransport } from './transport.ts';
import { newId } from '../ids.ts';
import { contactRow } from '../../test/support/contact-row.ts';

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

it('escapes merge fields in HTML and refuses unknown fields', () => {
  const mail = renderTemplate({ subject: 'Hello {{name}}', text: 'Hi {{name}}' }, { name: '<b>Zoë</b>' });
  expect(mail.subject).toBe('Hello <b>Zoë</b>');
  expect(mail.html).toContain('&lt;b&gt;Zoë&lt;/b&gt;');
  expect(() => renderTemplate({ subject: 'x', text: '{{missing}}' }, {})).toThrow(/missing/);
});

describeEachEngine('mail outbox', (h) => {
  const message = renderTemplate({ subject: 'Your code', text: 'Code: {{code}}' }, { code: '123456' });

  it('holds messages for the outbox view when no SMTP server is configured', async () => {
    const t = await h.tenant();
    await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, category: 'transactional', template: 'code', to: 'held@example.org', message });
    expect(await dispatchDueMail(h.ctx, null)).toBeGreaterThanOrEqual(1);
    const res = await h.request(t.admin.token, { method: 'GET', url: '/api/outbox' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ smtpConfigured: false, items: [{ status: 'held', to: 'held@example.org', subject: 'Your code', text: 'Code: 123456' }] });
    const other = await h.tenant();
    const foreign = await h.request(other.admin.token, { method: 'GET', url: '/api/outbox' });
    expect(foreign.json().items).toEqual([]);
  });

  it('sends over SMTP once with a stable Message-ID, then keeps no copy of the address', async () => {
    const t = await h.tenant();
    const before = smtp.received.length;
    const queued = await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, category: 'transactional', template: 'code', to: 'Send.Me@example.org', message });
    const transport = smtpTransport(smtp.url);
    try {
      expect(await dispatchDueMail(h.ctx, transport)).toBe(1);
      expect(await dispatchDueMail(h.ctx, transport)).toBe(0);
    } finally {
      transport.close();
    }
    const got = smtp.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ subject: 'Your code', messageId: queued.messageId });
    expect(got[0].text).toContain('123456');
    const row = await h.ctx.db.selectFrom('outbox_messages').selectAll().where('id', '=', queued.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'sent', to_address: null, subject: null, text_body: null, html_body: null });
  });

  it('retries a temporary SMTP failure with backoff and fails for good after the last attempt', async () => {
    const t = await h.tenant();
    const queued = await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, category: 'transactional', template: 'code', to: 'retry@example.org', message });
    const transport = smtpTransport(smtp.url);
    try {
      smtp.failNext(1);
      expect(await dispatchDueMail(h.ctx, transport)).toBe(0);
      let row = await h.ctx.db.selectFrom('outbox_messages').selectAll().where('id', '=', queued.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'pending', attempts: 1 });
      expect(await dispatchDueMail(h.ctx, transport)).toBe(0); // not due yet
      h.clock.advance(60_000);
      expect(await dispatchDueMail(h.ctx, transport)).toBe(1);

      const doomed = await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, category: 'transactional', template: 'code', to: 'doomed@example.org', message });
      smtp.failNext(MAX_MAIL_ATTEMPTS);
      for (let i = 0; i < MAX_MAIL_ATTEMPTS; i++) {
        await dispatchDueMail(h.ctx, transport);
        h.clock.advance(2 * 3_600_000);
      }
      row = await h.ctx.db.selectFrom('outbox_messages').selectAll().where('id', '=', doomed.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'failed', attempts: MAX_MAIL_ATTEMPTS, to_address: null });
    } finally {
      transport.close();
    }
  });

  it('refuses marketing mail to a contact who opted out, and sends transactional mail to them', async () => {
    const t = await h.tenant();
    const now = h.clock.now().toISOString();
    const contactId = newId();
    await h.ctx.db
      .insertInto('contacts')
      .values(
        contactRow({
          id: contactId, institution_id: t.institutionId, first_name: 'Opted', last_name: 'Out', first_name_folded: 'opted', last_name_folded: 'out',
          email: 'out@example.org', email_normalized: 'out@example.org', opt_in_status: 'opted_out', opt_in_changed_at: now, created_at: now, updated_at: now,
        }),
      )
      .execute();
    const marketing = await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, contactId, category: 'marketing', template: 'newsletter', to: 'out@example.org', message });
    expect(marketing).toMatchObject({ status: 'refused', refusal: 'the contact opted out' });
    const row = await h.ctx.db.selectFrom('outbox_messages').selectAll().where('id', '=', marketing.id).executeTakeFirstOrThrow();
    expect(row.to_address).toBeNull();
    const transactional = await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, contactId, category: 'transactional', template: 'code', to: 'out@example.org', message });
    expect(transactional.status).toBe('pending');
    expect(h.logLines.join('\n')).not.toContain('out@example.org');
  });
});
