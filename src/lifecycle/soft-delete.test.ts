import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';

const newsletter = renderTemplate({ subject: 'News', text: 'Hello' }, {});

describeEachEngine('soft delete (disable) and restore', (h) => {
  it('hides a disabled contact from the directory and from employer users, keeps it for staff to restore, and audits both', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const employer = await h.user(t, 'employer_user');
    const asEmployer = contactsApi(h, employer.token);
    const ada = await api.createContact({ firstName: 'Ada', lastName: 'Disabled', email: 'ada.disabled@example.org' });
    const bob = await api.createContact({ firstName: 'Bob', lastName: 'Kept' });

    const res = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${ada.id}/disable`, payload: { reason: 'asked by phone' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ contactId: ada.id, action: 'disable', outcome: 'changed', lifecycle: { status: 'disabled', disabledAt: h.clock.now().toISOString() } });

    expect((await api.list('')).items.map((c: { id: string }) => c.id)).toEqual([bob.id]);
    expect((await api.list('lifecycle=disabled')).items.map((c: { id: string }) => c.id)).toEqual([ada.id]);
    expect((await api.list('lifecycle=any')).items.map((c: { id: string }) => c.id).sort()).toEqual([ada.id, bob.id].sort());
    // Employer users (no staff visibility) do not find it at all, even by id or with the filter.
    expect((await asEmployer.list('')).items.map((c: { id: string }) => c.id)).toEqual([bob.id]);
    expect((await asEmployer.list('lifecycle=disabled')).items).toEqual([]);
    expect((await asEmployer.call('GET', `/api/contacts/${ada.id}`)).statusCode).toBe(404);
    // Staff still open the profile, and see why it is gone from the directory.
    expect((await api.call('GET', `/api/contacts/${ada.id}`)).statusCode).toBe(200);
    expect(await api.get(`/api/contacts/${ada.id}/lifecycle`)).toMatchObject({ status: 'disabled', approvalStatus: 'approved', archived: false });

    // Excluded from marketing email; its data cannot be edited until restored.
    const mail = await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, contactId: ada.id, category: 'marketing', template: 'newsletter', to: 'ada.disabled@example.org', message: newsletter });
    expect(mail).toMatchObject({ status: 'refused', refusal: 'the contact is disabled (account deleted)' });
    const edit = await api.call('PATCH', `/api/contacts/${ada.id}`, { firstName: 'Adele' });
    expect(edit.statusCode).toBe(409);
    expect(edit.json().detail).toContain('restore it');
    expect((await api.call('POST', `/api/contacts/${ada.id}/notes`, { body: 'x' })).statusCode).toBe(409);

    const restored = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${ada.id}/restore` });
    expect(restored.json()).toMatchObject({ outcome: 'changed', lifecycle: { status: 'active', disabledAt: null } });
    expect((await asEmployer.list('')).items.map((c: { id: string }) => c.id).sort()).toEqual([ada.id, bob.id].sort());
    expect((await api.get(`/api/contacts/${ada.id}`)).firstName).toBe('Ada');

    const entries = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: ada.id, limit: 10 });
    expect(entries.slice(0, 2).map((e) => e.action)).toEqual(['contact.restore', 'contact.disable']);
    expect(entries[1]).toMatchObject({ actorUserId: t.adminUserId, before: { disabled: false }, after: { disabled: true, reason: 'asked by phone' } });
    const timeline = await api.get(`/api/contacts/${ada.id}/activity`);
    expect(timeline.items.slice(0, 2).map((e: { type: string }) => e.type)).toEqual(['contact.restored', 'contact.disabled']);
  });

  it('is idempotent: disabling twice or restoring an active contact changes nothing and says so', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Idem', lastName: 'Potent' });
    await api.call('POST', `/api/contacts/${c.id}/disable`);
    const auditBefore = await h.count('audit_log');
    const again = await api.call('POST', `/api/contacts/${c.id}/disable`);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ outcome: 'unchanged', detail: 'The contact is already disabled.' });
    expect(await h.count('audit_log')).toBe(auditBefore);
    await api.call('POST', `/api/contacts/${c.id}/restore`);
    expect((await api.call('POST', `/api/contacts/${c.id}/restore`)).json()).toMatchObject({ outcome: 'unchanged', detail: 'The contact is not disabled.' });
  });

  it('refuses actions a disabled contact cannot take, saying to restore it first', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Off', lastName: 'Line' });
    await api.call('POST', `/api/contacts/${c.id}/disable`);
    for (const action of ['archive', 'reject', 'approve', 'unarchive']) {
      const res = await api.call('POST', `/api/contacts/${c.id}/${action}`);
      expect(res.statusCode, action).toBe(409);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().detail).toBe('The contact is disabled (its account was deleted); restore it first.');
    }
  });
});
