import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';

describeEachEngine('reject and approve (seed 001)', (h) => {
  it('a rejected contact leaves the directory for staff and employers alike, is found with the filter, is frozen, and comes back unchanged', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const employer = await h.user(t, 'employer_user');
    const asEmployer = contactsApi(h, employer.token);
    await api.defineAttribute({ key: 'program', type: 'text' });
    const ada = await api.createContact({ firstName: 'Ada', lastName: 'Rejected', email: 'ada.r@example.org', attributes: { program: 'CS' } });
    const bob = await api.createContact({ firstName: 'Bob', lastName: 'Approved' });
    await api.call('POST', `/api/contacts/${ada.id}/notes`, { body: 'before rejection' });
    const snapshot = await api.get(`/api/contacts/${ada.id}`);

    const res = await api.call('POST', `/api/contacts/${ada.id}/reject`, { reason: 'not an employer contact' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'changed', lifecycle: { approvalStatus: 'rejected' } });
    expect((await api.list('')).items.map((c: { id: string }) => c.id)).toEqual([bob.id]);
    expect((await asEmployer.list('')).items.map((c: { id: string }) => c.id)).toEqual([bob.id]);
    // "Approval Status = Rejected" finds them.
    expect((await api.list('approvalStatus=rejected')).items.map((c: { id: string }) => c.id)).toEqual([ada.id]);

    // Frozen: profile fields and notes refuse changes, saying why; consent may still be withdrawn.
    const edit = await api.call('PATCH', `/api/contacts/${ada.id}`, { attributes: { program: 'Law' } });
    expect(edit.statusCode).toBe(409);
    expect(edit.json().detail).toBe('The contact is rejected, so its data is frozen; approve it before changing anything else.');
    expect((await api.call('POST', `/api/contacts/${ada.id}/notes`, { body: 'after' })).statusCode).toBe(409);
    expect((await api.call('POST', `/api/contacts/${ada.id}/archive`)).statusCode).toBe(409);
    expect((await api.call('PUT', `/api/contacts/${ada.id}/consent`, { optInStatus: 'opted_out' })).statusCode).toBe(200);

    const approved = await api.call('POST', `/api/contacts/${ada.id}/approve`);
    expect(approved.json()).toMatchObject({ outcome: 'changed', lifecycle: { approvalStatus: 'approved' } });
    const after = await api.get(`/api/contacts/${ada.id}`);
    const { updatedAt: _u1, approvalStatus: _a1, optInStatus: _o1, optInChangedAt: _c1, ...kept } = snapshot;
    expect(after).toMatchObject(kept);
    expect((await api.list('')).items.map((c: { id: string }) => c.id).sort()).toEqual([ada.id, bob.id].sort());
    expect((await api.get(`/api/contacts/${ada.id}/notes`)).items.map((n: { body: string }) => n.body)).toEqual(['before rejection']);

    const entries = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: ada.id, action: 'contact.*', limit: 10 });
    expect(entries.find((e) => e.action === 'contact.reject')).toMatchObject({ before: { approvalStatus: 'approved' }, after: { approvalStatus: 'rejected', reason: 'not an employer contact' } });
    expect(entries.find((e) => e.action === 'contact.approve')).toMatchObject({ before: { approvalStatus: 'rejected' }, after: { approvalStatus: 'approved' } });
    const timeline = await api.get(`/api/contacts/${ada.id}/activity?types=contact.approval_changed`);
    expect(timeline.items.map((e: { data: { to: string } }) => e.data.to)).toEqual(['approved', 'rejected']);
  });

  it('approves a pending self-signed-up contact, and says so when there is nothing to do', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Self', lastName: 'Signed', source: 'self_signup' });
    expect(c.approvalStatus).toBe('pending');
    expect((await api.call('POST', `/api/contacts/${c.id}/approve`)).json()).toMatchObject({ outcome: 'changed', lifecycle: { approvalStatus: 'approved' } });
    expect((await api.call('POST', `/api/contacts/${c.id}/approve`)).json()).toMatchObject({ outcome: 'unchanged', detail: 'The contact is already approved.' });
    await api.call('POST', `/api/contacts/${c.id}/reject`);
    expect((await api.call('POST', `/api/contacts/${c.id}/reject`)).json()).toMatchObject({ outcome: 'unchanged', detail: 'The contact is already rejected.' });
  });
});

describeEachEngine('lifecycle actions: permissions, tenants and bad input', (h) => {
  it('needs the permission of each action: staff may archive and reject, only privacy officers and admins delete and expunge', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const staff = await h.user(t, 'staff');
    const employer = await h.user(t, 'employer_user');
    const officer = await h.user(t, 'privacy_officer');
    const c = await api.createContact({ firstName: 'Perm', lastName: 'Checked' });
    const contactsBefore = await h.count('contacts');

    for (const action of ['delete', 'expunge']) {
      const res = await h.request(staff.token, { method: 'POST', url: `/api/contacts/${c.id}/${action}` });
      expect(res.statusCode, action).toBe(403);
      expect(res.json().detail).toContain(action === 'delete' ? 'contacts.delete' : 'contacts.expunge');
    }
    expect((await h.request(staff.token, { method: 'DELETE', url: `/api/contacts/${c.id}` })).statusCode).toBe(403);
    for (const action of ['archive', 'reject', 'disable']) {
      expect((await h.request(employer.token, { method: 'POST', url: `/api/contacts/${c.id}/${action}` })).statusCode, action).toBe(403);
    }
    expect((await h.request(staff.token, { method: 'POST', url: `/api/contacts/${c.id}/reject` })).statusCode).toBe(200);
    expect(await h.count('contacts')).toBe(contactsBefore);
    expect((await h.request(officer.token, { method: 'DELETE', url: `/api/contacts/${c.id}` })).statusCode).toBe(200);
    expect(await h.count('contacts')).toBe(contactsBefore - 1);
  });

  it("answers 404 for another institution's contact, for every action, and changes nothing", async () => {
    const t = await h.tenant();
    const other = await h.tenant();
    const theirs = await contactsApi(h, other.admin.token).createContact({ firstName: 'Not', lastName: 'Yours' });
    const before = await h.count('audit_log');
    for (const action of ['disable', 'restore', 'archive', 'unarchive', 'reject', 'approve', 'delete', 'expunge', 'lifecycle']) {
      const res = await h.request(t.admin.token, { method: action === 'lifecycle' ? 'GET' : 'POST', url: `/api/contacts/${theirs.id}/${action}` });
      expect(res.statusCode, action).toBe(404);
      expect(res.json().detail).toBe('Contact was not found.');
    }
    expect((await h.request(t.admin.token, { method: 'DELETE', url: `/api/contacts/${theirs.id}` })).statusCode).toBe(404);
    expect(await h.count('audit_log')).toBe(before);
    expect((await h.request(other.admin.token, { method: 'GET', url: `/api/contacts/${theirs.id}/lifecycle` })).json()).toMatchObject({ status: 'active', approvalStatus: 'approved' });
  });

  it('answers 410 for actions on a deleted contact, and "unchanged" for repeating the deletion', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Gone', lastName: 'Soon' });
    expect((await api.call('DELETE', `/api/contacts/${c.id}?reason=duplicate`)).json()).toMatchObject({ outcome: 'changed', lifecycle: null });
    expect((await api.call('DELETE', `/api/contacts/${c.id}`)).json()).toMatchObject({ outcome: 'unchanged', detail: 'The contact was already deleted.' });
    const restore = await api.call('POST', `/api/contacts/${c.id}/restore`);
    expect(restore.statusCode).toBe(410);
    expect(restore.json().detail).toBe('The contact was deleted; there is nothing left to act on.');
    expect((await api.call('GET', `/api/contacts/${c.id}/lifecycle`)).statusCode).toBe(410);
  });

  it('refuses an unknown erasure reason code naming the field', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Reason', lastName: 'Code' });
    const res = await api.call('POST', `/api/contacts/${c.id}/expunge`, { reason: 'because John asked' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].field).toBe('reason');
    expect((await api.call('DELETE', `/api/contacts/${c.id}?reason=whim`)).json().errors[0].field).toBe('querystring.reason');
    expect((await api.call('GET', `/api/contacts/${c.id}`)).statusCode).toBe(200);
  });
});
