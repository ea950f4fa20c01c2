import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';

describeEachEngine('projects and sequences', (h) => {
  let t: SeededTenant;
  let staff: Awaited<ReturnType<typeof h.user>>;
  let owner: Awaited<ReturnType<typeof h.user>>;
  const ids: Record<string, string> = {};
  const call = (token: string, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    h.request(token, { method, url, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    t = await h.tenant();
    staff = await h.user(t, 'staff');
    owner = await h.user(t, 'staff');
    const api = contactsApi(h, t.admin.token);
    ids.a = (await api.createContact({ firstName: 'Avery', lastName: 'Able' })).id;
    ids.b = (await api.createContact({ firstName: 'Blake', lastName: 'Baker' })).id;
    ids.hidden = (await api.createContact({ firstName: 'Hidden', lastName: 'Owner', visibility: 'owner_only', ownerUserId: owner.id })).id;
  });

  it('creates, lists, renames, fills and empties a project, auditing each change', async () => {
    const created = await call(staff.token, 'POST', '/api/projects', { name: 'Fall recruiting', description: 'Shortlist', contactIds: [ids.a] });
    expect(created.statusCode, created.body).toBe(201);
    const p = created.json();
    expect(p).toMatchObject({ name: 'Fall recruiting', ownerUserId: staff.id, organizationId: t.organizationIds[0], contactCount: 1 });

    const added = await call(staff.token, 'POST', `/api/projects/${p.id}/contacts`, { contactIds: [ids.a, ids.b] });
    expect(added.json()).toMatchObject({ added: 1, project: { contactCount: 2 } });
    const members = await call(staff.token, 'GET', `/api/projects/${p.id}/contacts?limit=1`);
    expect(members.json().items).toHaveLength(1);
    const rest = await call(staff.token, 'GET', `/api/projects/${p.id}/contacts?limit=1&after=${members.json().nextCursor}`);
    expect([members.json().items[0].contactId, rest.json().items[0].contactId].sort()).toEqual([ids.a, ids.b].sort());
    expect(rest.json().nextCursor).toBeNull();

    const renamed = await call(staff.token, 'PATCH', `/api/projects/${p.id}`, { name: 'Fall shortlist', ownerUserId: owner.id });
    expect(renamed.json()).toMatchObject({ name: 'Fall shortlist', ownerUserId: owner.id });
    expect((await call(staff.token, 'GET', `/api/projects?ownerUserId=${owner.id}`)).json().items.map((x: { id: string }) => x.id)).toContain(p.id);

    expect((await call(staff.token, 'DELETE', `/api/projects/${p.id}/contacts/${ids.b}`)).statusCode).toBe(204);
    expect((await call(staff.token, 'DELETE', `/api/projects/${p.id}/contacts/${ids.b}`)).statusCode).toBe(404);
    expect((await call(staff.token, 'GET', `/api/projects/${p.id}`)).json().contactCount).toBe(1);
    expect((await call(staff.token, 'DELETE', `/api/projects/${p.id}`)).statusCode).toBe(204);
    expect((await call(staff.token, 'GET', `/api/projects/${p.id}`)).statusCode).toBe(404);
    expect(await h.count('contacts')).toBeGreaterThanOrEqual(3); // the contacts stay

    const actions = (await listAudit(h.ctx, { institutionId: t.institutionId, targetId: p.id, limit: 20 })).map((a) => a.action).reverse();
    expect(actions).toEqual(['project.create', 'project.contacts_added', 'project.update', 'project.contact_removed', 'project.delete']);
  });

  it('respects visibility: a contact the caller cannot see can neither be added nor listed', async () => {
    const p = (await call(t.admin.token, 'POST', '/api/projects', { name: 'Mixed', contactIds: [ids.a, ids.hidden] })).json();
    expect(p.contactCount).toBe(2);
    expect((await call(staff.token, 'GET', `/api/projects/${p.id}`)).json().contactCount).toBe(1);
    expect((await call(staff.token, 'GET', `/api/projects/${p.id}/contacts`)).json().items.map((m: { contactId: string }) => m.contactId)).toEqual([ids.a]);
    const denied = await call(staff.token, 'POST', `/api/projects/${p.id}/contacts`, { contactIds: [ids.b, ids.hidden] });
    expect(denied.statusCode).toBe(422);
    expect(denied.json().errors).toEqual([{ field: 'contactIds.1', message: 'is not a contact you can see in this institution' }]);
    expect((await call(t.admin.token, 'GET', `/api/projects/${p.id}`)).json().contactCount).toBe(2); // nothing added
  });

  it('names bad fields and keeps tenants apart', async () => {
    const bad = await call(staff.token, 'POST', '/api/projects', { name: '', contactIds: 'x', extra: 1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.some((e: { field: string }) => e.field === 'name')).toBe(true);
    expect(bad.json().errors.some((e: { field: string }) => e.field === 'contactIds')).toBe(true);
    const badOwner = await call(staff.token, 'POST', '/api/projects', { name: 'X', ownerUserId: 'nobody' });
    expect(badOwner.statusCode).toBe(422);
    expect(badOwner.json().errors).toEqual([{ field: 'ownerUserId', message: 'is not a user of this institution' }]);
    const stranger = await h.tenant();
    const p = (await call(staff.token, 'POST', '/api/projects', { name: 'Ours' })).json();
    const s = (await call(staff.token, 'POST', '/api/sequences', { name: 'Ours', steps: [{ subject: 'a', body: 'b' }] })).json();
    for (const [method, url] of [
      ['GET', `/api/projects/${p.id}`],
      ['PATCH', `/api/projects/${p.id}`],
      ['DELETE', `/api/projects/${p.id}`],
      ['GET', `/api/projects/${p.id}/contacts`],
      ['GET', `/api/sequences/${s.id}`],
      ['GET', `/api/sequences/${s.id}/enrollments`],
      ['DELETE', `/api/sequences/${s.id}`],
    ] as const) {
      const r = await call(stranger.admin.token, method, url, method === 'PATCH' ? { name: 'x' } : undefined);
      expect(r.statusCode, `${method} ${url}`).toBe(404);
    }
    const foreignContact = await call(stranger.admin.token, 'POST', `/api/projects`, { name: 'Steal', contactIds: [ids.a] });
    expect(foreignContact.statusCode).toBe(422);
    expect((await call(stranger.admin.token, 'GET', '/api/projects')).json().items).toEqual([]);
  });

  it('runs a sequence: steps, enrollment, each step’s status, a reply ending it, unenrollment', async () => {
    const created = await call(staff.token, 'POST', '/api/sequences', {
      name: 'Alumni outreach',
      status: 'active',
      steps: [
        { subject: 'Hello', body: 'First touch' },
        { subject: 'Reminder', body: 'Second touch', delayDays: 3 },
        { subject: 'Last call', body: 'Third touch', delayDays: 7 },
      ],
    });
    expect(created.statusCode, created.body).toBe(201);
    const s = created.json();
    expect(s.steps.map((x: { position: number; delayDays: number }) => [x.position, x.delayDays])).toEqual([[1, 0], [2, 3], [3, 7]]);

    expect((await call(staff.token, 'POST', `/api/sequences/${s.id}/enrollments`, { contactIds: [ids.a, ids.b] })).json()).toEqual({ enrolled: 2 });
    expect((await call(staff.token, 'POST', `/api/sequences/${s.id}/enrollments`, { contactIds: [ids.a] })).json()).toEqual({ enrolled: 0 });
    const list = (await call(staff.token, 'GET', `/api/sequences/${s.id}/enrollments`)).json().items;
    const ea = list.find((e: { contactId: string }) => e.contactId === ids.a);
    const eb = list.find((e: { contactId: string }) => e.contactId === ids.b);
    expect(ea.steps.map((x: { status: string }) => x.status)).toEqual(['scheduled', 'pending', 'pending']);

    const sent = await call(staff.token, 'PUT', `/api/sequences/${s.id}/enrollments/${ea.id}/steps/1`, { status: 'sent' });
    expect(sent.json().steps.map((x: { status: string }) => x.status)).toEqual(['sent', 'scheduled', 'pending']);
    const replied = await call(staff.token, 'PUT', `/api/sequences/${s.id}/enrollments/${ea.id}/steps/2`, { status: 'replied' });
    expect(replied.json()).toMatchObject({ status: 'finished' });
    expect(replied.json().steps.map((x: { status: string }) => x.status)).toEqual(['sent', 'replied', 'skipped']);

    expect((await call(staff.token, 'DELETE', `/api/sequences/${s.id}/enrollments/${eb.id}`)).statusCode).toBe(204);
    const stopped = (await call(staff.token, 'GET', `/api/sequences/${s.id}/enrollments`)).json().items.find((e: { id: string }) => e.id === eb.id);
    expect(stopped).toMatchObject({ status: 'stopped' });
    expect(stopped.steps.map((x: { status: string }) => x.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect((await call(staff.token, 'PUT', `/api/sequences/${s.id}/enrollments/${eb.id}/steps/1`, { status: 'sent' })).statusCode).toBe(409);

    const bad = await call(staff.token, 'PUT', `/api/sequences/${s.id}/enrollments/${ea.id}/steps/1`, { status: 'maybe' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(['status']);
    expect((await call(staff.token, 'PUT', `/api/sequences/${s.id}/enrollments/${ea.id}/steps/0`, { status: 'sent' })).json().errors[0].field).toBe('params.position');
    expect((await call(staff.token, 'PUT', `/api/sequences/${s.id}/enrollments/${ea.id}/steps/9`, { status: 'sent' })).statusCode).toBe(404);
    expect((await call(staff.token, 'PUT', `/api/sequences/${s.id}/steps`, { steps: [{ subject: 'x', body: 'y' }] })).statusCode).toBe(409);
    const archived = await call(staff.token, 'PATCH', `/api/sequences/${s.id}`, { status: 'archived' });
    expect(archived.json().status).toBe('archived');
    expect((await call(staff.token, 'POST', `/api/sequences/${s.id}/enrollments`, { contactIds: [ids.hidden] })).statusCode).toBe(409);

    const activity = await call(t.admin.token, 'GET', `/api/contacts/${ids.a}/activity?types=sequence.enrolled,sequence.step_status`);
    expect(activity.json().items.map((e: { type: string }) => e.type)).toEqual(['sequence.step_status', 'sequence.step_status', 'sequence.enrolled']);
  });

  it('refuses a sequence without steps and lets its steps change while nobody is enrolled', async () => {
    const none = await call(staff.token, 'POST', '/api/sequences', { name: 'Empty', steps: [] });
    expect(none.statusCode).toBe(400);
    expect(none.json().errors[0]).toMatchObject({ field: 'steps' });
    const s = (await call(staff.token, 'POST', '/api/sequences', { name: 'Draft', steps: [{ subject: 'a', body: 'b' }] })).json();
    const replaced = await call(staff.token, 'PUT', `/api/sequences/${s.id}/steps`, { steps: [{ subject: 'one', body: '1' }, { subject: 'two', body: '2', delayDays: 2 }] });
    expect(replaced.json().steps.map((x: { subject: string }) => x.subject)).toEqual(['one', 'two']);
    expect((await call(staff.token, 'GET', '/api/sequences?status=draft')).json().items.map((x: { id: string }) => x.id)).toContain(s.id);
  });
});
