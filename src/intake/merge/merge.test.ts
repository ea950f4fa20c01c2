import { expect, it } from 'vitest';
import { describeEachEngine } from '../../../test/support/harness.ts';
import { contactsApi } from '../../../test/support/contacts.ts';
import { listAudit } from '../../audit/audit-log.ts';
import { newId } from '../../ids.ts';
import { tablesWithContactId } from './merge.ts';

describeEachEngine('merging two contacts', (h) => {
  async function setup() {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'program', type: 'choice', options: ['Law', 'Medicine'] });
    await api.defineAttribute({ key: 'year', type: 'number' });
    const acme = await api.createEmployer('Acme');
    const globex = await api.createEmployer('Globex');
    const survivor = await api.createContact({ firstName: 'Ann', lastName: 'Lee', email: 'ann@a.org', employerId: acme.id, attributes: { program: 'Law' }, authorizations: { newsletter: true } });
    h.clock.advance(60_000);
    const created = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/contacts',
      headers: { 'idempotency-key': 'create-anne' },
      payload: { firstName: 'Anne', lastName: 'Lee', email: 'anne@b.org', mobilePhone: '+1 212 555 0100', employerId: globex.id, attributes: { program: 'Medicine', year: 3 }, authorizations: { newsletter: false, events: true } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const other = created.json();
    for (const body of ['first note', 'second note']) await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${other.id}/notes`, payload: { body } });
    await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${other.id}/meetings`, payload: { title: 'Coffee', scheduledAt: '2026-02-01T10:00:00.000Z' } });
    await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${other.id}/tasks`, payload: { title: 'Call back' } });
    await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${survivor.id}/notes`, payload: { body: 'survivor note' } });
    await h.ctx.db
      .insertInto('outbox_messages')
      .values({ id: newId(), institution_id: t.institutionId, contact_id: other.id, category: 'transactional', template: 'test', to_address: null, subject: null, text_body: null, html_body: null, message_id: `<${newId()}@test>`, status: 'sent', attempts: 1, next_attempt_at: h.clock.now().toISOString(), lease_expires_at: null, last_error: null, created_at: h.clock.now().toISOString(), sent_at: h.clock.now().toISOString() })
      .execute();
    const [a, b] = survivor.id < other.id ? [survivor.id, other.id] : [other.id, survivor.id];
    await h.ctx.db
      .insertInto('possible_duplicates')
      .values({ id: newId(), institution_id: t.institutionId, contact_a_id: a, contact_b_id: b, score: 0.8, reasons: '[]', status: 'open', created_at: h.clock.now().toISOString(), updated_at: h.clock.now().toISOString(), dismissed_by: null, dismissed_at: null })
      .execute();
    // Both are in one project (a membership that may exist once per contact); the other is also in a second one.
    const now = h.clock.now().toISOString();
    const projects = [newId(), newId()];
    for (const id of projects) {
      await (h.ctx.db as any).insertInto('projects').values({ id, institution_id: t.institutionId, organization_id: null, name: `Project ${id.slice(-4)}`, description: null, owner_user_id: null, created_at: now, updated_at: now }).execute();
    }
    const member = (project_id: string, contact_id: string) => ({ project_id, contact_id, institution_id: t.institutionId, added_by: null, added_at: now });
    await (h.ctx.db as any).insertInto('project_contacts').values([member(projects[0], survivor.id), member(projects[0], other.id), member(projects[1], other.id)]).execute();
    h.clock.advance(60_000);
    return { t, api, acme, globex, survivor, other };
  }

  async function rowsOf(contactId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of ['contact_employments', 'contact_authorizations', 'contact_attribute_values', 'applications', ...(await tablesWithContactId(h.ctx.db, h.ctx.store.kind))]) {
      const row = await (h.ctx.db as any).selectFrom(table).select((eb: any) => eb.fn.countAll().as('n')).where('contact_id', '=', contactId).executeTakeFirst();
      if (Number(row.n)) counts[table] = Number(row.n);
    }
    return counts;
  }

  it('previews without changing anything, then merges field by field, moving every related record to the survivor', async () => {
    const { t, api, globex, survivor, other } = await setup();
    const before = { survivor: await rowsOf(survivor.id), other: await rowsOf(other.id) };
    expect(before.other).toMatchObject({ contact_notes: 2, contact_meetings: 1, contact_tasks: 1, contact_employments: 1, contact_authorizations: 2, contact_attribute_values: 2, outbox_messages: 1 });
    const contactsBefore = await h.count('contacts');

    const choices = { email: 'other', employerId: 'other', 'attributes.program': 'other' };
    const preview = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${survivor.id}/merge/preview`, payload: { otherId: other.id, choices } });
    expect(preview.statusCode, preview.body).toBe(200);
    const fields = Object.fromEntries(preview.json().fields.map((f: { field: string }) => [f.field, f]));
    expect(fields.firstName).toMatchObject({ survivor: 'Ann', other: 'Anne', chosen: 'survivor', result: 'Ann' });
    expect(fields.email).toMatchObject({ chosen: 'other', result: 'anne@b.org' });
    expect(fields.mobilePhone).toMatchObject({ chosen: 'other', result: '+1 212 555 0100' });
    expect(fields['attributes.year']).toMatchObject({ chosen: 'other', result: '3' });
    expect(preview.json().moves).toEqual(before.other);
    expect(await h.count('contacts')).toBe(contactsBefore);
    expect(await rowsOf(other.id)).toEqual(before.other);

    const res = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${survivor.id}/merge`, payload: { otherId: other.id, choices } });
    expect(res.statusCode, res.body).toBe(200);
    const merged = res.json();
    expect(merged.mergedId).toBe(other.id);
    expect(merged.contact).toMatchObject({
      id: survivor.id,
      firstName: 'Ann',
      email: 'anne@b.org',
      mobilePhone: '+1 212 555 0100',
      employer: { id: globex.id, name: 'Globex' },
      attributes: { program: 'Medicine', year: 3 },
      authorizations: { newsletter: { granted: false }, events: { granted: true } },
    });
    expect(merged.contact.formerEmployers.map((e: { name: string }) => e.name)).toEqual(['Acme']);

    // Row counts: one contact fewer; nothing left under the other id; the survivor holds both sets.
    expect(await h.count('contacts')).toBe(contactsBefore - 1);
    expect(await rowsOf(other.id)).toEqual({});
    const afterSurvivor = await rowsOf(survivor.id);
    expect(afterSurvivor.contact_notes).toBe(3);
    expect(afterSurvivor.contact_meetings).toBe(1);
    expect(afterSurvivor.contact_tasks).toBe(1);
    expect(afterSurvivor.outbox_messages).toBe(1);
    expect(afterSurvivor.project_contacts).toBe(2); // the shared project once, and the other's second project
    expect(afterSurvivor.contact_employments).toBe(2);
    expect(afterSurvivor.contact_authorizations).toBe(2);
    expect(afterSurvivor.contact_attribute_values).toBe(2);
    // + contact.merged, contact.updated, contact.employer_changed, contact.criterion_changed
    expect(afterSurvivor.activity_events).toBe(before.survivor.activity_events + before.other.activity_events + 4);
    expect(merged.moved).toMatchObject({ contact_notes: 2, contact_meetings: 1, contact_tasks: 1, outbox_messages: 1, contact_employments: 1 });

    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${other.id}` })).statusCode).toBe(404);
    expect(await h.ctx.db.selectFrom('data_keys').select('subject_id').where('subject_id', '=', other.id).execute()).toEqual([]);
    expect(await h.ctx.db.selectFrom('idempotency_keys').select('key').where('resource_id', '=', other.id).execute()).toEqual([]);
    expect(await h.ctx.db.selectFrom('possible_duplicates').select('id').where('institution_id', '=', t.institutionId).execute()).toEqual([]);

    // Audited: both contacts before and the survivor after, sealed with the survivor's key; the other's own entries are shredded.
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.merge', limit: 1 });
    expect(entry).toMatchObject({
      targetId: survivor.id,
      shredded: false,
      before: { survivor: { email: 'ann@a.org', employerId: survivor.employer.id }, other: { email: 'anne@b.org', firstName: 'Anne', attributes: { program: 'Medicine', year: '3' } } },
      after: { email: 'anne@b.org', employerId: globex.id, attributes: { program: 'Medicine', year: '3' } },
      meta: { mergedId: other.id },
    });
    const otherEntries = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: other.id, limit: 20 });
    expect(otherEntries.find((e) => e.action === 'contact.create')).toMatchObject({ shredded: true, after: null });
    expect(otherEntries.find((e) => e.action === 'contact.merged_into')).toMatchObject({ meta: { survivorId: survivor.id } });
    const activity = await api.get(`/api/contacts/${survivor.id}/activity`);
    expect(activity.items[0]).toMatchObject({ type: expect.stringMatching(/^contact\./) });
    expect(activity.items.map((a: { type: string }) => a.type)).toContain('contact.merged');
  });

  it('refuses what cannot be merged, changing nothing', async () => {
    const { t, survivor, other } = await setup();
    const url = `/api/contacts/${survivor.id}/merge`;
    const itself = await h.request(t.admin.token, { method: 'POST', url, payload: { otherId: survivor.id } });
    expect(itself.statusCode).toBe(422);
    const badChoice = await h.request(t.admin.token, { method: 'POST', url, payload: { otherId: other.id, choices: { shoeSize: 'other' } } });
    expect(badChoice.statusCode).toBe(422);
    expect(badChoice.json().errors[0].field).toBe('choices.shoeSize');
    const stranger = await h.tenant();
    const strangers = contactsApi(h, stranger.admin.token);
    const theirs = await strangers.createContact({ firstName: 'Ann', lastName: 'Lee' });
    expect((await h.request(t.admin.token, { method: 'POST', url, payload: { otherId: theirs.id } })).statusCode).toBe(404);
    expect((await h.request(stranger.admin.token, { method: 'POST', url, payload: { otherId: theirs.id } })).statusCode).toBe(404);
    const staff = await h.user(t, 'staff');
    expect((await h.request(staff.token, { method: 'POST', url, payload: { otherId: other.id } })).statusCode).toBe(403);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${other.id}` })).statusCode).toBe(200);
    expect(await rowsOf(other.id)).toMatchObject({ contact_notes: 2 });
  });
});
