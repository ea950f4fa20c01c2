import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';

describeEachEngine('notes, meetings and tasks', (h) => {
  async function setup() {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const contact = await api.createContact({ firstName: 'Ada', lastName: 'Lovelace' });
    return { t, api, contact, base: `/api/contacts/${contact.id}` };
  }

  it('notes: add, list newest first with a cursor, edit, delete; audited with the contact’s key', async () => {
    const { t, api, contact, base } = await setup();
    const created = [];
    for (const body of ['first call', 'second call', 'third call']) {
      h.clock.advance(1000);
      const res = await api.call('POST', `${base}/notes`, { body });
      expect(res.statusCode).toBe(201);
      created.push(res.json());
    }
    expect(created[0]).toMatchObject({ contactId: contact.id, authorUserId: t.admin.id, body: 'first call' });
    const page1 = await api.get(`${base}/notes?limit=2`);
    expect(page1.items.map((n: { body: string }) => n.body)).toEqual(['third call', 'second call']);
    const page2 = await api.get(`${base}/notes?limit=2&after=${page1.nextCursor}`);
    expect(page2).toEqual({ items: [created[0]], nextCursor: null });

    h.clock.advance(1000);
    const edited = await api.call('PATCH', `${base}/notes/${created[0].id}`, { body: 'first call (edited)' });
    expect(edited.json()).toMatchObject({ body: 'first call (edited)', updatedAt: h.clock.now().toISOString(), createdAt: created[0].createdAt });
    expect((await api.call('PATCH', `${base}/notes/${created[0].id}`, { body: '  ' })).statusCode).toBe(400);
    expect((await api.call('DELETE', `${base}/notes/${created[1].id}`)).statusCode).toBe(204);
    expect((await api.call('DELETE', `${base}/notes/${created[1].id}`)).statusCode).toBe(404);
    expect((await api.get(`${base}/notes`)).items).toHaveLength(2);

    const raw = await h.ctx.db.selectFrom('audit_log').selectAll().where('subject_id', '=', contact.id).where('action', 'like', 'note.%').execute();
    expect(raw).toHaveLength(5);
    for (const row of raw) expect(`${row.before_enc}${row.after_enc}`).not.toContain('call');
    const entries = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'note.*', limit: 10 });
    expect(entries[0]).toMatchObject({ action: 'note.delete', before: { body: 'second call' } });
    expect(entries[1]).toMatchObject({ action: 'note.update', before: { body: 'first call' }, after: { body: 'first call (edited)' } });

    const activity = await api.get(`${base}/activity?types=note.added,note.updated,note.deleted`);
    expect(activity.items.map((i: { type: string }) => i.type)).toEqual(['note.deleted', 'note.updated', 'note.added', 'note.added', 'note.added']);
    expect(activity.items[0].data).toEqual({ noteId: created[1].id });
  });

  it('meetings: scheduled time normalised to UTC, optional notes cleared with null', async () => {
    const { api, base } = await setup();
    const res = await api.call('POST', `${base}/meetings`, { title: 'Career fair', scheduledAt: '2026-03-01T10:00:00+01:00', notes: 'bring CV' });
    expect(res.statusCode).toBe(201);
    const meeting = res.json();
    expect(meeting).toMatchObject({ title: 'Career fair', scheduledAt: '2026-03-01T09:00:00.000Z', notes: 'bring CV' });
    const patched = await api.call('PATCH', `${base}/meetings/${meeting.id}`, { notes: null, scheduledAt: '2026-03-02T09:00:00Z' });
    expect(patched.json()).toMatchObject({ notes: null, scheduledAt: '2026-03-02T09:00:00.000Z', title: 'Career fair' });
    expect((await api.call('POST', `${base}/meetings`, { title: 'No time' })).statusCode).toBe(400);
    expect((await api.call('POST', `${base}/meetings`, { title: 'Bad time', scheduledAt: 'tomorrow' })).statusCode).toBe(400);
    expect((await api.call('PATCH', `${base}/meetings/${meeting.id}`, { title: null })).statusCode).toBe(400);
  });

  it('tasks: created open, completed with done: true (recorded once), reopened', async () => {
    const { api, base, contact } = await setup();
    const task = (await api.call('POST', `${base}/tasks`, { title: 'Send offer', dueAt: '2026-02-01T00:00:00Z' })).json();
    expect(task).toMatchObject({ title: 'Send offer', dueAt: '2026-02-01T00:00:00.000Z', done: false });
    const done = await api.call('PATCH', `${base}/tasks/${task.id}`, { done: true });
    expect(done.json()).toMatchObject({ done: true });
    await api.call('PATCH', `${base}/tasks/${task.id}`, { done: true });
    const reopened = await api.call('PATCH', `${base}/tasks/${task.id}`, { done: false, dueAt: null });
    expect(reopened.json()).toMatchObject({ done: false, dueAt: null });
    const completions = await h.ctx.db.selectFrom('activity_events').select('data').where('contact_id', '=', contact.id).where('type', '=', 'task.completed').execute();
    expect(completions).toEqual([{ data: JSON.stringify({ taskId: task.id }) }]);
    const already = (await api.call('POST', `${base}/tasks`, { title: 'Done already', done: true })).json();
    expect(already.done).toBe(true);
    expect(await h.ctx.db.selectFrom('activity_events').select('seq').where('contact_id', '=', contact.id).where('type', '=', 'task.completed').execute()).toHaveLength(2);
  });

  it('a record of one contact cannot be reached through another contact; readers cannot write', async () => {
    const { t, api, base } = await setup();
    const other = await api.createContact({ firstName: 'Bob', lastName: 'Babbage' });
    const note = (await api.call('POST', `${base}/notes`, { body: 'mine' })).json();
    expect((await api.call('PATCH', `/api/contacts/${other.id}/notes/${note.id}`, { body: 'stolen' })).statusCode).toBe(404);
    expect((await api.call('DELETE', `/api/contacts/${other.id}/notes/${note.id}`)).statusCode).toBe(404);
    expect((await api.call('PATCH', `${base}/tasks/${note.id}`, { title: 'x' })).statusCode).toBe(404);
    const reader = contactsApi(h, (await h.user(t, 'employer_user')).token);
    expect((await reader.get(`${base}/notes`)).items).toHaveLength(1);
    expect((await reader.call('POST', `${base}/notes`, { body: 'x' })).statusCode).toBe(403);
    expect((await reader.call('DELETE', `${base}/notes/${note.id}`)).statusCode).toBe(403);
  });

  it('Idempotency-Key on a note creates it once', async () => {
    const { api, base } = await setup();
    const before = await h.count('contact_notes');
    const a = await api.call('POST', `${base}/notes`, { body: 'once' }, { 'idempotency-key': 'note-1' });
    const b = await api.call('POST', `${base}/notes`, { body: 'once' }, { 'idempotency-key': 'note-1' });
    expect(b.json()).toEqual(a.json());
    expect(await h.count('contact_notes')).toBe(before + 1);
  });
});
