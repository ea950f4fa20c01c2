import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';

describeEachEngine('employers and employment history', (h) => {
  it('are created, found by name prefix in name order, renamed; names are unique ignoring case and accents', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const names = ['Zeta Labs', 'Acme Corp', 'Ácme Research', 'Beta', 'acme-tools'];
    const created = [];
    for (const name of names) created.push(await api.createEmployer(name));
    const dup = await api.call('POST', '/api/employers', { name: '  ACME   corp ' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors).toEqual([{ field: 'name', message: 'is already taken' }]);
    expect((await api.call('POST', '/api/employers', { name: '  ' })).statusCode).toBe(422);

    const staff = await h.user(t, 'staff');
    const employerUser = await h.user(t, 'employer_user');
    const found = await contactsApi(h, employerUser.token).get('/api/employers?q=acme');
    // Folded order: "acme corp" < "acme research" < "acme tools".
    expect(found.items.map((e: { name: string }) => e.name)).toEqual(['Acme Corp', 'Ácme Research', 'acme-tools']);
    expect((await contactsApi(h, employerUser.token).call('POST', '/api/employers', { name: 'Nope' })).statusCode).toBe(403);

    const page1 = await api.get('/api/employers?limit=2');
    const page2 = await api.get(`/api/employers?limit=2&after=${page1.nextCursor}`);
    const page3 = await api.get(`/api/employers?limit=2&after=${page2.nextCursor}`);
    expect([...page1.items, ...page2.items, ...page3.items].map((e: { name: string }) => e.name)).toEqual([
      'Acme Corp',
      'Ácme Research',
      'acme-tools',
      'Beta',
      'Zeta Labs',
    ]);
    expect(page3.nextCursor).toBeNull();

    const beta = created[3];
    const renamed = await contactsApi(h, staff.token).call('PATCH', `/api/employers/${beta.id}`, { name: 'Beta Industries' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toEqual({ ...beta, name: 'Beta Industries' });
    expect((await api.call('PATCH', `/api/employers/${beta.id}`, { name: 'zeta labs' })).statusCode).toBe(409);
    expect(await api.get(`/api/employers/${beta.id}`)).toMatchObject({ name: 'Beta Industries' });
  });

  it('moving a contact to another employer keeps it as a former contact of the old one (seed 001 "Inactive")', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const acme = await api.createEmployer('Acme Corp');
    const inactive = await api.createEmployer('Inactive');
    const ada = await api.createContact({ firstName: 'Ada', lastName: 'Lovelace', employerId: acme.id });
    const bob = await api.createContact({ firstName: 'Bob', lastName: 'Babbage', employerId: acme.id });
    const joined = h.clock.now().toISOString();

    h.clock.advanceDays(30);
    const left = h.clock.now().toISOString();
    const moved = await api.patchContact(ada.id, { employerId: inactive.id, visibility: 'staff_only' });
    expect(moved.employer).toEqual({ id: inactive.id, name: 'Inactive', since: left });
    expect(moved.formerEmployers).toEqual([{ id: acme.id, name: 'Acme Corp', startedAt: joined, endedAt: left }]);

    const current = await api.get(`/api/employers/${acme.id}/contacts`);
    expect(current.items.map((c: { id: string }) => c.id)).toEqual([bob.id]);
    const former = await api.get(`/api/employers/${acme.id}/contacts?status=former`);
    expect(former.items).toEqual([{ id: ada.id, firstName: 'Ada', lastName: 'Lovelace', since: joined, endedAt: left, currentEmployer: { id: inactive.id, name: 'Inactive' } }]);
    expect((await api.get(`/api/employers/${inactive.id}/contacts`)).items.map((c: { id: string }) => c.id)).toEqual([ada.id]);
    expect((await api.list(`employerId=${inactive.id}`)).items.map((c: { id: string }) => c.id)).toEqual([ada.id]);

    // Revive: back at Acme, no longer a former contact there; Inactive now lists it as former.
    h.clock.advanceDays(30);
    const back = await api.patchContact(ada.id, { employerId: acme.id });
    expect(back.employer.id).toBe(acme.id);
    expect(back.formerEmployers.map((e: { name: string }) => e.name)).toEqual(['Inactive', 'Acme Corp']);
    expect((await api.get(`/api/employers/${acme.id}/contacts?status=former`)).items).toEqual([]);
    expect((await api.get(`/api/employers/${acme.id}/contacts`)).items.map((c: { id: string }) => c.id).sort()).toEqual([ada.id, bob.id].sort());
    expect((await api.get(`/api/employers/${inactive.id}/contacts?status=former`)).items.map((c: { id: string }) => c.id)).toEqual([ada.id]);

    const employerUser = await h.user(t, 'employer_user');
    const asEmployer = contactsApi(h, employerUser.token);
    await api.patchContact(ada.id, { employerId: inactive.id });
    expect((await asEmployer.get(`/api/employers/${acme.id}/contacts?status=former`)).items).toEqual([]);
    expect((await asEmployer.get(`/api/employers/${inactive.id}/contacts`)).items).toEqual([]);
  });

  it('employer contacts page through in last-name order', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const acme = await api.createEmployer('Acme');
    const names = ['Young', 'Adams', 'Miller', 'Baker', 'Nash'];
    for (const lastName of names) await api.createContact({ firstName: 'X', lastName, employerId: acme.id });
    const seen: string[] = [];
    let after = '';
    do {
      const page = await api.get(`/api/employers/${acme.id}/contacts?limit=2${after ? `&after=${after}` : ''}`);
      seen.push(...page.items.map((c: { lastName: string }) => c.lastName));
      after = page.nextCursor ?? '';
    } while (after);
    expect(seen).toEqual([...names].sort());
  });
});
