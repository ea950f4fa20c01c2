import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';

describeEachEngine('contact visibility and tenant isolation', (h) => {
  async function world() {
    const t = await h.tenant();
    const admin = contactsApi(h, t.admin.token);
    const staff = await h.user(t, 'staff');
    const otherStaff = await h.user(t, 'staff');
    const employer = await h.user(t, 'employer_user');
    const officer = await h.user(t, 'privacy_officer');
    const contacts = {
      everyone: await admin.createContact({ firstName: 'Eve', lastName: 'Everyone' }),
      staffOnly: await admin.createContact({ firstName: 'Sam', lastName: 'Staffonly', visibility: 'staff_only' }),
      ownedByStaff: await admin.createContact({ firstName: 'Oscar', lastName: 'Owned', visibility: 'owner_only', ownerUserId: staff.id }),
      ownedByEmployer: await admin.createContact({ firstName: 'Olga', lastName: 'Owned', visibility: 'owner_only', ownerUserId: employer.id }),
    };
    return { t, admin, staff, otherStaff, employer, officer, contacts };
  }

  it('GET, directory and PATCH follow the same rule for every role', async () => {
    const w = await world();
    const c = w.contacts;
    const matrix: [string, string, (keyof typeof c)[]][] = [
      ['admin', w.t.admin.token, ['everyone', 'staffOnly', 'ownedByStaff', 'ownedByEmployer']],
      ['staff (owner of one)', w.staff.token, ['everyone', 'staffOnly', 'ownedByStaff']],
      ['other staff', w.otherStaff.token, ['everyone', 'staffOnly']],
      ['employer user (owner of one)', w.employer.token, ['everyone', 'ownedByEmployer']],
      ['privacy officer', w.officer.token, ['everyone', 'staffOnly', 'ownedByStaff', 'ownedByEmployer']],
    ];
    for (const [role, token, visible] of matrix) {
      const api = contactsApi(h, token);
      for (const key of Object.keys(c) as (keyof typeof c)[]) {
        const res = await api.call('GET', `/api/contacts/${c[key].id}`);
        expect(res.statusCode, `${role} GET ${key}`).toBe(visible.includes(key) ? 200 : 404);
        if (!visible.includes(key)) {
          expect(res.body).not.toContain(c[key].lastName);
          const activity = await api.call('GET', `/api/contacts/${c[key].id}/activity`);
          expect(activity.statusCode, `${role} activity ${key}`).toBe(404);
          const notes = await api.call('GET', `/api/contacts/${c[key].id}/notes`);
          expect(notes.statusCode, `${role} notes ${key}`).toBe(404);
        }
      }
      const listed = await api.list('limit=200');
      expect(listed.items.map((i: { id: string }) => i.id).sort(), `${role} directory`).toEqual(visible.map((k) => c[k].id).sort());
      const searched = await api.list('lastName=owned');
      expect(searched.items.map((i: { id: string }) => i.id).sort(), `${role} search`).toEqual(
        visible.filter((k) => k.startsWith('owned')).map((k) => c[k].id).sort(),
      );
    }

    // Writers: staff may change what they see; what they do not see is 404, not 403.
    const staffApi = contactsApi(h, w.otherStaff.token);
    expect((await staffApi.call('PATCH', `/api/contacts/${c.staffOnly.id}`, { firstName: 'Samuel' })).statusCode).toBe(200);
    const hidden = await staffApi.call('PATCH', `/api/contacts/${c.ownedByStaff.id}`, { firstName: 'Hacked' });
    expect(hidden.statusCode).toBe(404);
    expect((await staffApi.call('PUT', `/api/contacts/${c.ownedByStaff.id}/consent`, { optInStatus: 'opted_out' })).statusCode).toBe(404);
    expect((await staffApi.call('POST', `/api/contacts/${c.ownedByStaff.id}/notes`, { body: 'x' })).statusCode).toBe(404);
    expect((await contactsApi(h, w.staff.token).call('PATCH', `/api/contacts/${c.ownedByStaff.id}`, { firstName: 'Oskar' })).statusCode).toBe(200);
    expect((await w.admin.get(`/api/contacts/${c.ownedByStaff.id}`)).firstName).toBe('Oskar');

    // Employer users read only: no writes, even on contacts they see.
    const employerApi = contactsApi(h, w.employer.token);
    expect((await employerApi.call('PATCH', `/api/contacts/${c.everyone.id}`, { firstName: 'X' })).statusCode).toBe(403);
    expect((await employerApi.call('POST', '/api/contacts', { firstName: 'X', lastName: 'Y' })).statusCode).toBe(403);
  });

  it('a contact moved to staff only disappears from an employer user at once', async () => {
    const w = await world();
    const employerApi = contactsApi(h, w.employer.token);
    expect((await employerApi.call('GET', `/api/contacts/${w.contacts.everyone.id}`)).statusCode).toBe(200);
    await w.admin.patchContact(w.contacts.everyone.id, { visibility: 'staff_only' });
    expect((await employerApi.call('GET', `/api/contacts/${w.contacts.everyone.id}`)).statusCode).toBe(404);
    expect((await employerApi.list('')).items.map((i: { id: string }) => i.id)).not.toContain(w.contacts.everyone.id);
  });

  it("another institution's contact, employer, attribute and note ids answer 404, never data", async () => {
    const w = await world();
    const other = await h.tenant();
    const otherApi = contactsApi(h, other.admin.token);
    const foreignEmployer = await otherApi.createEmployer('Foreign Corp');
    const foreignAttribute = await otherApi.defineAttribute({ key: 'secret', type: 'text' });
    const foreign = await otherApi.createContact({ firstName: 'Fiona', lastName: 'Foreign', employerId: foreignEmployer.id, attributes: { secret: 'x' } });
    const note = await h.request(other.admin.token, { method: 'POST', url: `/api/contacts/${foreign.id}/notes`, payload: { body: 'private' } });
    const task = await h.request(other.admin.token, { method: 'POST', url: `/api/contacts/${foreign.id}/tasks`, payload: { title: 'call' } });
    const noteId = note.json().id;

    const api = w.admin;
    const probes: [string, string, unknown?][] = [
      ['GET', `/api/contacts/${foreign.id}`],
      ['PATCH', `/api/contacts/${foreign.id}`, { firstName: 'X' }],
      ['PUT', `/api/contacts/${foreign.id}/consent`, { optInStatus: 'opted_in' }],
      ['GET', `/api/contacts/${foreign.id}/activity`],
      ['GET', `/api/contacts/${foreign.id}/notes`],
      ['POST', `/api/contacts/${foreign.id}/notes`, { body: 'x' }],
      ['PATCH', `/api/contacts/${foreign.id}/notes/${noteId}`, { body: 'x' }],
      ['DELETE', `/api/contacts/${foreign.id}/notes/${noteId}`],
      ['PATCH', `/api/contacts/${w.contacts.everyone.id}/notes/${noteId}`, { body: 'x' }],
      ['PATCH', `/api/contacts/${w.contacts.everyone.id}/tasks/${task.json().id}`, { done: true }],
      ['GET', `/api/employers/${foreignEmployer.id}`],
      ['PATCH', `/api/employers/${foreignEmployer.id}`, { name: 'Mine' }],
      ['GET', `/api/employers/${foreignEmployer.id}/contacts`],
      ['GET', `/api/attributes/${foreignAttribute.id}`],
      ['PATCH', `/api/attributes/${foreignAttribute.id}`, { label: 'x' }],
      ['DELETE', `/api/attributes/${foreignAttribute.id}`],
    ];
    for (const [method, url, payload] of probes) {
      const res = await api.call(method as 'GET', url, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.body).not.toContain('Fiona');
      expect(res.body).not.toContain('Foreign');
    }
    const borrowed = await api.call('POST', '/api/contacts', { firstName: 'A', lastName: 'B', employerId: foreignEmployer.id, attributes: { secret: 'x' } });
    expect(borrowed.statusCode).toBe(422);
    expect(borrowed.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['attributes.secret', 'employerId']);
    expect((await api.list(`employerId=${foreignEmployer.id}`)).items).toEqual([]);
    expect((await api.list('lastName=foreign')).items).toEqual([]);
    expect((await api.call('GET', `/api/contacts?attr.secret=x`)).statusCode).toBe(422);

    // Nothing of the other tenant changed.
    const still = await otherApi.get(`/api/contacts/${foreign.id}`);
    expect(still).toMatchObject({ firstName: 'Fiona', attributes: { secret: 'x' } });
    expect((await otherApi.get(`/api/contacts/${foreign.id}/notes`)).items).toHaveLength(1);
  });
});
