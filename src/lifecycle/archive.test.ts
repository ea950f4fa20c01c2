import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { dispatchDueMail } from '../mail/dispatcher.ts';
import { smtpTransport } from '../mail/transport.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';
import { ensureEmployer } from './test-fixtures.ts';

const newsletter = renderTemplate({ subject: 'News', text: 'Hello' }, {});

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

describeEachEngine('archive and revive (seed 001)', (h) => {
  it('moves the contact to "Inactive" (created once), keeps it as a former contact of its employer, marks it do-not-email and staff-only', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const employer = await h.user(t, 'employer_user');
    const asEmployer = contactsApi(h, employer.token);
    const acme = await ensureEmployer(h, t.admin.token, 'Acme Corp');
    const ada = await api.createContact({ firstName: 'Ada', lastName: 'Leaver', email: 'ada.leaver@example.org', employerId: acme });
    const bob = await api.createContact({ firstName: 'Bob', lastName: 'Stayer', employerId: acme });

    const res = await api.call('POST', `/api/contacts/${ada.id}/archive`, { reason: 'left Acme' });
    expect(res.statusCode, res.body).toBe(200);
    const inactive = (await api.get('/api/employers?q=inactive')).items;
    expect(inactive).toHaveLength(1);
    expect(res.json()).toMatchObject({ outcome: 'changed', lifecycle: { archived: true, doNotEmail: true, visibility: 'staff_only', employerId: inactive[0].id } });

    const profile = await api.get(`/api/contacts/${ada.id}`);
    expect(profile).toMatchObject({ employer: { name: 'Inactive' }, visibility: 'staff_only', attributes: { do_not_email: true }, firstName: 'Ada', email: 'ada.leaver@example.org' });
    expect(profile.formerEmployers.map((e: { name: string }) => e.name)).toEqual(['Acme Corp']);
    // "The Contact will still remain linked to their previous Employer record as a Former Contact … tagged as Inactive"
    const former = await api.get(`/api/employers/${acme}/contacts?status=former`);
    expect(former.items).toMatchObject([{ id: ada.id, currentEmployer: { id: inactive[0].id, name: 'Inactive' } }]);
    expect((await api.get(`/api/employers/${acme}/contacts`)).items.map((c: { id: string }) => c.id)).toEqual([bob.id]);
    // "Employer Name = Inactive" finds the archived contacts; students/employers no longer see them.
    expect((await api.list(`employerId=${inactive[0].id}`)).items.map((c: { id: string }) => c.id)).toEqual([ada.id]);
    expect((await asEmployer.list('')).items.map((c: { id: string }) => c.id)).toEqual([bob.id]);

    // Every marketing send honours the attribute: refused, and logged without the address.
    const mail = await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, contactId: ada.id, category: 'marketing', template: 'newsletter', to: 'ada.leaver@example.org', message: newsletter });
    expect(mail).toMatchObject({ status: 'refused', refusal: 'the contact is marked "do not email"' });
    const refusedLine = h.logLines.find((l) => l.includes(mail.id));
    expect(refusedLine).toContain('marketing mail refused');
    expect(h.logLines.join('\n')).not.toContain('ada.leaver@example.org');
    const transactional = await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, contactId: ada.id, category: 'transactional', template: 'code', to: 'ada.leaver@example.org', message: newsletter });
    expect(transactional.status).toBe('pending');

    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.archive', targetId: ada.id, limit: 1 });
    expect(entry).toMatchObject({
      actorUserId: t.adminUserId,
      before: { employerId: acme, visibility: 'everyone', attributes: { do_not_email: null }, archived: false },
      after: { employerId: inactive[0].id, visibility: 'staff_only', attributes: { do_not_email: 'true' }, archived: true, reason: 'left Acme' },
    });

    // Archiving again is a no-op; a second contact reuses the same Inactive employer.
    expect((await api.call('POST', `/api/contacts/${ada.id}/archive`)).json()).toMatchObject({ outcome: 'unchanged', detail: 'The contact is already archived.' });
    await api.call('POST', `/api/contacts/${bob.id}/archive`);
    expect((await api.get('/api/employers?q=inactive')).items).toHaveLength(1);
  });

  it('revives an archived contact: employer, attribute and visibility go back, history is kept', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const acme = await ensureEmployer(h, t.admin.token, 'Acme Corp');
    const ada = await api.createContact({ firstName: 'Ada', lastName: 'Returner', employerId: acme, visibility: 'everyone' });
    await api.call('POST', `/api/contacts/${ada.id}/archive`);
    h.clock.advance(60_000);
    const back = await api.call('POST', `/api/contacts/${ada.id}/unarchive`);
    expect(back.json()).toMatchObject({ outcome: 'changed', lifecycle: { archived: false, doNotEmail: false, visibility: 'everyone', employerId: acme } });
    const profile = await api.get(`/api/contacts/${ada.id}`);
    expect(profile.employer.name).toBe('Acme Corp');
    expect(profile.attributes).toEqual({});
    expect(profile.formerEmployers.map((e: { name: string }) => e.name)).toEqual(['Inactive', 'Acme Corp']);
    expect((await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, contactId: ada.id, category: 'marketing', template: 'n', to: 'x@example.org', message: newsletter })).status).toBe('pending');
    expect((await api.call('POST', `/api/contacts/${ada.id}/unarchive`)).json()).toMatchObject({ outcome: 'unchanged', detail: 'The contact is not archived.' });

    // Reviving to a new employer, as seed 001 says ("once they come back to work with your team").
    const globex = await ensureEmployer(h, t.admin.token, 'Globex');
    await api.call('POST', `/api/contacts/${ada.id}/archive`);
    const moved = await api.call('POST', `/api/contacts/${ada.id}/unarchive`, { employerId: globex });
    expect(moved.json().lifecycle.employerId).toBe(globex);
    const unknown = await api.call('POST', `/api/contacts/${ada.id}/unarchive`, { employerId: 'no-such-employer' });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors).toEqual([{ field: 'employerId', message: 'is not an employer of this institution' }]);
  });

  it('archives with only some of the three patterns, and a do-not-email attribute set by hand is honoured too', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const acme = await ensureEmployer(h, t.admin.token, 'Acme Corp');
    const c = await api.createContact({ firstName: 'Partly', lastName: 'Archived', employerId: acme });
    const res = await api.call('POST', `/api/contacts/${c.id}/archive`, { employer: false, staffOnly: false });
    expect(res.json().lifecycle).toMatchObject({ archived: true, doNotEmail: true, visibility: 'everyone', employerId: acme });

    const d = await api.createContact({ firstName: 'Hand', lastName: 'Marked' });
    await api.patchContact(d.id, { attributes: { do_not_email: true } });
    const mail = await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, contactId: d.id, category: 'marketing', template: 'n', to: 'hand@example.org', message: newsletter });
    expect(mail.status).toBe('refused');
  });

  it('refuses at sending time marketing mail queued before the contact was archived or disabled, and logs it without the address', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const archived = await api.createContact({ firstName: 'Queued', lastName: 'Archived', email: 'queued.archived@example.org' });
    const disabled = await api.createContact({ firstName: 'Queued', lastName: 'Disabled', email: 'queued.disabled@example.org' });
    const kept = await api.createContact({ firstName: 'Queued', lastName: 'Kept', email: 'queued.kept@example.org' });
    const queue = (contactId: string, to: string) =>
      enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, contactId, category: 'marketing', template: 'newsletter', to, message: newsletter });
    const mails = [await queue(archived.id, 'queued.archived@example.org'), await queue(disabled.id, 'queued.disabled@example.org'), await queue(kept.id, 'queued.kept@example.org')];
    expect(mails.map((m) => m.status)).toEqual(['pending', 'pending', 'pending']);

    await api.call('POST', `/api/contacts/${archived.id}/archive`, { employer: false, staffOnly: false });
    await api.call('POST', `/api/contacts/${disabled.id}/disable`);
    const before = smtp.received.length;
    const transport = smtpTransport(smtp.url);
    try {
      await dispatchDueMail(h.ctx, transport);
    } finally {
      transport.close();
    }
    expect(smtp.received.slice(before).map((m) => m.to).filter((to) => to.startsWith('queued.'))).toEqual(['queued.kept@example.org']);
    const rows = await h.ctx.db.selectFrom('outbox_messages').select(['id', 'status', 'last_error', 'to_address']).where('id', 'in', mails.map((m) => m.id)).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(mails[0].id)).toEqual({ id: mails[0].id, status: 'refused', last_error: 'the contact is marked "do not email"', to_address: null });
    expect(byId.get(mails[1].id)).toEqual({ id: mails[1].id, status: 'refused', last_error: 'the contact is disabled (account deleted)', to_address: null });
    expect(byId.get(mails[2].id)).toMatchObject({ status: 'sent' });
    for (const m of mails.slice(0, 2)) expect(h.logLines.find((l) => l.includes(m.id) && l.includes('marketing mail refused'))).toBeDefined();
    expect(h.logLines.join('\n')).not.toMatch(/queued\.(archived|disabled)@example\.org/);
  });

  it('refuses bad archive options naming the field, and changes nothing', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Bad', lastName: 'Input' });
    const before = await h.count('audit_log');
    const res = await api.call('POST', `/api/contacts/${c.id}/archive`, { employer: 'yes', colour: 'red' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('employer');
    expect(res.json().detail).toContain('colour');
    expect(await h.count('audit_log')).toBe(before);
    expect((await api.get(`/api/contacts/${c.id}/lifecycle`)).archived).toBe(false);
  });
});
