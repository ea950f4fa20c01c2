import { expect, it } from 'vitest';
import { describeEachEngine, drainJobs } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';
import { dumpRows } from '../lifecycle/test-fixtures.ts';


describeEachEngine('deleting a user with all their activity (seed 001)', (h) => {
  it('leaves no row naming the user anywhere but the audit chain (bare ids); the records they touched stay, unlinked', async () => {
    const t = await h.tenant();
    const pat = await h.user(t, 'admin');
    const asPat = contactsApi(h, pat.token);
    // Activity of every kind: contacts owned, edited, archived, disabled; a note; a webhook; a
    // bulk job; an idempotent create; a notification still waiting to be sent to them.
    const owned = await asPat.createContact({ firstName: 'Owned', lastName: 'ByPat', ownerUserId: pat.id });
    const archived = await asPat.createContact({ firstName: 'Archived', lastName: 'ByPat' });
    const disabled = await asPat.createContact({ firstName: 'Disabled', lastName: 'ByPat' });
    await asPat.patchContact(owned.id, { firstName: 'Owned2' });
    const note = await h.request(pat.token, { method: 'POST', url: `/api/contacts/${owned.id}/notes`, headers: { 'idempotency-key': 'pat-note' }, payload: { body: 'written by Pat' } });
    expect(note.statusCode, note.body).toBe(201);
    await asPat.call('POST', `/api/contacts/${archived.id}/archive`);
    await asPat.call('POST', `/api/contacts/${disabled.id}/disable`);
    expect((await asPat.call('POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['contact.deleted'] })).statusCode).toBe(201);
    expect((await asPat.call('POST', '/api/contacts/bulk', { filter: { ids: [owned.id] }, action: { action: 'update', visibility: 'staff_only' } })).statusCode).toBe(202);
    await drainJobs(h);
    const notice = renderTemplate({ subject: 'Your export is ready', text: 'Hello' }, {});
    await enqueueMail(h.ctx, h.ctx.db, { institutionId: t.institutionId, contactId: null, category: 'transactional', template: 'exports.ready', to: pat.email, message: notice });
    const timeline = (await h.ctx.db.selectFrom('activity_events').select('seq').where('contact_id', '=', owned.id).execute()).length;

    const mentions = (row: string) => row.includes(pat.id) || row.toLowerCase().includes(pat.email.toLowerCase());
    const before = await dumpRows(h);
    expect([...before].filter(([, rows]) => rows.some(mentions)).map(([table]) => table).sort()).toEqual(
      expect.arrayContaining(['activity_events', 'api_tokens', 'audit_log', 'contact_archives', 'contacts', 'disabled_contacts', 'jobs', 'outbox_messages', 'users', 'webhook_subscriptions']),
    );

    const del = await h.request(t.admin.token, { method: 'DELETE', url: `/api/users/${pat.id}` });
    expect(del.statusCode, del.body).toBe(204);

    for (const [table, rows] of await dumpRows(h)) {
      const left = rows.filter(mentions);
      if (table === 'audit_log') {
        // The chain cannot be edited; it keeps the id as actor or target, never the address.
        expect(left.every((r) => !r.toLowerCase().includes(pat.email.toLowerCase())), table).toBe(true);
        continue;
      }
      expect(left, `${table} still names the deleted user`).toEqual([]);
    }
    // What they worked on is the institution's and stays: the contacts, the note, the timelines.
    expect((await contactsApi(h, t.admin.token).get(`/api/contacts/${owned.id}`)).firstName).toBe('Owned2');
    expect((await contactsApi(h, t.admin.token).get(`/api/contacts/${owned.id}/notes`)).items.map((n: { body: string }) => n.body)).toEqual(['written by Pat']);
    expect((await h.ctx.db.selectFrom('activity_events').select('seq').where('contact_id', '=', owned.id).execute()).length).toBe(timeline);
    expect(await contactsApi(h, t.admin.token).get(`/api/contacts/${archived.id}/lifecycle`)).toMatchObject({ archived: true });
    expect(await contactsApi(h, t.admin.token).get(`/api/contacts/${disabled.id}/lifecycle`)).toMatchObject({ status: 'disabled' });
  });
});
