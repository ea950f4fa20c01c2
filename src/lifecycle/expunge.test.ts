import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type Harness } from '../../test/support/harness.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';
import { verifyAuditLog } from '../audit/verify.ts';
import { dispatchDueMail } from '../mail/dispatcher.ts';
import { smtpTransport } from '../mail/transport.ts';
import { settleErasureNotices } from './erasure-notices.ts';
import { isSuppressed, suppressionCheckFor } from './suppression.ts';
import { dumpRows, richContact } from './test-fixtures.ts';

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

async function sendMail(h: Harness): Promise<void> {
  const transport = smtpTransport(smtp.url);
  try {
    await dispatchDueMail(h.ctx, transport);
  } finally {
    transport.close();
  }
}

describeEachEngine('expunge (seed 000)', (h) => {
  it('erases every row, pending mail, stored responses and events, shreds the audit entries at once, and emails a confirmation first', async () => {
    const t = await h.tenant();
    await h.request(t.admin.token, { method: 'POST', url: '/api/webhooks', payload: { url: 'http://127.0.0.1:9/hook', events: ['contact.expunged'] } });
    const marker = `Exp${Date.now().toString(36)}`;
    const gone = await richContact(h, t, marker);
    const ids = [gone.id, ...Object.values(gone.related)];
    const sealedBefore = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: gone.id, limit: 50 });
    expect(JSON.stringify(sealedBefore)).toContain(gone.email);

    const res = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${gone.id}/expunge`, payload: { reason: 'contact_request' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ contactId: gone.id, action: 'expunge', outcome: 'changed', lifecycle: null });

    // Before sending: the confirmation is the only row holding the address, linked to nobody.
    const holding = (await dumpRows(h)).get('outbox_messages')!.filter((r) => r.includes(gone.email));
    expect(holding).toHaveLength(1);
    expect(JSON.parse(holding[0])).toMatchObject({ contact_id: null, category: 'transactional', template: 'lifecycle.expunge_confirmation', status: 'pending' });

    const sent = smtp.received.length;
    await sendMail(h);
    expect(await settleErasureNotices(h.ctx)).toBe(1);
    const mail = smtp.received.slice(sent).filter((m) => m.to.includes(gone.email));
    expect(mail).toHaveLength(1);
    expect(mail[0].text).toContain('permanently erased');
    expect(mail[0].text).not.toContain(`${marker}Ada`);

    // After: no row anywhere mentions the contact, except id-only history and the webhook event.
    for (const [table, rows] of await dumpRows(h)) {
      const left = rows.filter((r) => gone.values.some((v) => r.includes(v)));
      expect(left, `${table} still holds a value`).toEqual([]);
      const byId = rows.filter((r) => ids.some((id) => r.includes(id)));
      if (table === 'audit_log') continue;
      if (table === 'webhook_deliveries') {
        expect(byId.map((r) => JSON.parse(JSON.parse(r).payload))).toEqual([expect.objectContaining({ type: 'contact.expunged', data: { contactId: gone.id } })]);
        continue;
      }
      expect(byId, `${table} still holds a row of the contact`).toEqual([]);
    }
    // Every earlier audit entry about the contact reads as shredded; the chain still verifies.
    const entries = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: gone.id, limit: 50 });
    const history = entries.filter((e) => e.action !== 'contact.expunge');
    expect(history.length).toBeGreaterThanOrEqual(2);
    for (const e of history) expect(e).toMatchObject({ shredded: true, before: null, after: null });
    const note = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: gone.related.noteId, limit: 5 });
    expect(note[0]).toMatchObject({ action: 'note.create', shredded: true });
    expect(entries[0]).toMatchObject({ action: 'contact.expunge', shredded: false, meta: { reason: 'contact_request', via: 'staff', confirmationEmail: true, suppressionList: false } });
    expect(JSON.stringify(entries)).not.toContain(gone.email);
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);
    const [confirmation] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'mail.expunge_confirmation', limit: 1 });
    expect(confirmation.meta).toMatchObject({ outcome: 'sent' });
    expect(h.logLines.join('\n')).not.toContain(marker.toLowerCase());
  });

  it('is idempotent: a second expunge does nothing more; expunging a deleted contact shreds what delete kept', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Twice', lastName: 'Gone', email: 'twice@example.org' });
    await api.call('POST', `/api/contacts/${c.id}/expunge`, { notify: false });
    const audit = await h.count('audit_log');
    const again = await api.call('POST', `/api/contacts/${c.id}/expunge`);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ outcome: 'unchanged', detail: 'The contact was already expunged.' });
    expect(await h.count('audit_log')).toBe(audit);
    expect((await api.call('DELETE', `/api/contacts/${c.id}`)).json()).toMatchObject({ outcome: 'unchanged', detail: 'The contact was already expunged.' });

    const d = await api.createContact({ firstName: 'Deleted', lastName: 'First', email: 'deleted.first@example.org' });
    await api.call('DELETE', `/api/contacts/${d.id}`);
    expect((await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.create', targetId: d.id, limit: 1 }))[0].shredded).toBe(false);
    const shred = await api.call('POST', `/api/contacts/${d.id}/expunge`);
    expect(shred.json()).toMatchObject({ outcome: 'changed' });
    expect((await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.create', targetId: d.id, limit: 1 }))[0].shredded).toBe(true);
    expect((await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.expunge', targetId: d.id, limit: 1 }))[0].meta).toMatchObject({ previously: 'deleted' });
  });

  it('keeps only keyed hashes on the suppression list when the institution turns it on, so the person is recognised', async () => {
    const t = await h.tenant();
    const other = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Sup', lastName: 'Pressed', email: 'Sup.Pressed@Example.org', mobilePhone: '+41 79 555 12 34' });
    expect(await isSuppressed(h.ctx, h.ctx.db, t.institutionId, { email: 'sup.pressed@example.org', mobileE164: null })).toBe(false);

    const settings = await api.call('PATCH', '/api/lifecycle/settings', { suppressionList: true });
    expect(settings.json()).toEqual({ selfServiceDelete: 'soft', suppressionList: true });
    await api.call('POST', `/api/contacts/${c.id}/expunge`, { notify: false });

    expect(await isSuppressed(h.ctx, h.ctx.db, t.institutionId, { email: ' SUP.pressed@example.org ', mobileE164: null })).toBe(true);
    expect(await isSuppressed(h.ctx, h.ctx.db, t.institutionId, { email: null, mobileE164: '+41795551234' })).toBe(true);
    expect(await isSuppressed(h.ctx, h.ctx.db, t.institutionId, { email: 'someone.else@example.org', mobileE164: null })).toBe(false);
    expect(await isSuppressed(h.ctx, h.ctx.db, other.institutionId, { email: 'sup.pressed@example.org', mobileE164: null })).toBe(false);
    const check = await suppressionCheckFor(h.ctx, h.ctx.db, t.institutionId);
    expect(await check!([{ email: 'x@example.org', mobileE164: null }, { email: 'sup.pressed@example.org', mobileE164: null }])).toEqual([false, true]);
    const rows = (await dumpRows(h)).get('suppression_entries')!.join('\n');
    expect(rows).not.toContain('pressed');
    expect(rows).not.toContain('5551234');
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.expunge', targetId: c.id, limit: 1 });
    expect(entry.meta).toMatchObject({ suppressionList: true, confirmationEmail: false });

    // Turned off, the list is not consulted.
    await api.call('PATCH', '/api/lifecycle/settings', { suppressionList: false });
    expect(await suppressionCheckFor(h.ctx, h.ctx.db, t.institutionId)).toBeNull();
  });

  it('without an SMTP server the confirmation cannot leave, so it is dropped rather than keeping the address', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'No', lastName: 'Smtp', email: 'no.smtp@example.org' });
    await api.call('POST', `/api/contacts/${c.id}/expunge`);
    await dispatchDueMail(h.ctx, null);
    await settleErasureNotices(h.ctx);
    expect((await dumpRows(h)).get('outbox_messages')!.join('\n')).not.toContain('no.smtp@example.org');
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'mail.expunge_confirmation', limit: 1 });
    expect(entry.meta).toMatchObject({ outcome: 'not_sent_no_smtp' });
  });
});
