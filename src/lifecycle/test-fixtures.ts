import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import type { Harness, SeededTenant } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';
import { newId } from '../ids.ts';

/** Test set-up shared by the lifecycle tests: contacts with every kind of record attached. */

export async function ensureAttribute(h: Harness, token: string, body: Record<string, unknown>): Promise<void> {
  const res = await h.request(token, { method: 'POST', url: '/api/attributes', payload: body });
  expect([201, 409], res.body).toContain(res.statusCode);
}

export async function ensureEmployer(h: Harness, token: string, name: string): Promise<string> {
  const created = await h.request(token, { method: 'POST', url: '/api/employers', payload: { name } });
  if (created.statusCode === 201) return created.json().id;
  const found = await h.request(token, { method: 'GET', url: `/api/employers?q=${encodeURIComponent(name)}` });
  return found.json().items.find((e: { name: string }) => e.name === name).id;
}

export interface RichContact {
  id: string;
  email: string;
  /** every distinctive value this contact put anywhere, as typed and as stored */
  values: string[];
  related: { noteId: string; meetingId: string; taskId: string; applicationId: string; enrollmentId: string };
}

/**
 * A contact whose distinctive values (`marker` in each) reach every place a contact's data goes:
 * the row and its indexes, attributes, consent, employment, notes/meetings/tasks, an application,
 * a project membership and a sequence enrollment, activity events, sealed audit entries, a stored
 * idempotent response, and pending marketing mail.
 */
export async function richContact(h: Harness, t: SeededTenant, marker: string, employerId?: string): Promise<RichContact> {
  const api = contactsApi(h, t.admin.token);
  await ensureAttribute(h, t.admin.token, { key: 'nickname', label: 'Nickname', type: 'text' });
  const email = `${marker.toLowerCase()}@erase.example`;
  const local = String(randomInt(1_000_000, 9_999_999));
  const mobile = `+41 79 ${local.slice(0, 3)} ${local.slice(3, 5)} ${local.slice(5)}`;
  const e164 = `+4179${local}`;
  const created = await h.request(t.admin.token, {
    method: 'POST',
    url: '/api/contacts',
    headers: { 'idempotency-key': `create-${marker}` },
    payload: {
      firstName: `${marker}Ada`,
      lastName: `${marker}Lovelace`,
      email,
      mobilePhone: mobile,
      ...(employerId ? { employerId } : {}),
      attributes: { nickname: `${marker}Nick` },
      authorizations: { newsletter: true },
      optInStatus: 'opted_in',
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().id as string;
  await api.patchContact(id, { attributes: { nickname: `${marker}Nickname` } });
  const note = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${id}/notes`, headers: { 'idempotency-key': `note-${marker}` }, payload: { body: `${marker} met at the fair` } });
  expect(note.statusCode, note.body).toBe(201);
  const meeting = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${id}/meetings`, payload: { title: `${marker} interview`, scheduledAt: '2026-02-01T10:00:00Z' } });
  const task = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${id}/tasks`, payload: { title: `${marker} call back` } });
  expect(meeting.statusCode, meeting.body).toBe(201);
  expect(task.statusCode, task.body).toBe(201);
  // Lists and outreach it belongs to (the records are the institution's; the membership is the contact's).
  const project = await h.request(t.admin.token, { method: 'POST', url: '/api/projects', payload: { name: 'Fair leads', contactIds: [id] } });
  expect(project.statusCode, project.body).toBe(201);
  const sequence = await h.request(t.admin.token, { method: 'POST', url: '/api/sequences', payload: { name: 'Follow-up', status: 'active', steps: [{ subject: 'Hello', body: 'Hi there' }] } });
  expect(sequence.statusCode, sequence.body).toBe(201);
  const enrolled = await h.request(t.admin.token, { method: 'POST', url: `/api/sequences/${sequence.json().id}/enrollments`, payload: { contactIds: [id] } });
  expect(enrolled.json(), enrolled.body).toEqual({ enrolled: 1 });
  const enrollment = await h.ctx.db.selectFrom('sequence_enrollments').select('id').where('contact_id', '=', id).executeTakeFirstOrThrow();
  const now = h.clock.now().toISOString();
  const applicationId = newId();
  await h.ctx.db
    .insertInto('applications')
    .values({ id: applicationId, institution_id: t.institutionId, form_id: null, contact_id: id, organization_id: null, status: 'created', submitted_enc: null, created_at: now, updated_at: now })
    .execute();
  await enqueueMail(h.ctx, h.ctx.db, {
    institutionId: t.institutionId,
    contactId: id,
    category: 'marketing',
    template: 'newsletter',
    to: email,
    message: renderTemplate({ subject: 'News for {{name}}', text: 'Hello {{name}}' }, { name: `${marker}Ada` }),
  });
  return {
    id,
    email,
    values: [`${marker}Ada`, `${marker}Lovelace`, email, mobile, e164, `${marker}Nick`, `${marker} met at the fair`, `${marker} interview`, `${marker} call back`],
    related: { noteId: note.json().id, meetingId: meeting.json().id, taskId: task.json().id, applicationId, enrollmentId: enrollment.id },
  };
}

/** Every table of the database, from the schema itself (so a table added later is counted too). */
export async function allTables(h: Harness): Promise<string[]> {
  if (h.kind === 'sqlite') {
    const rows = await h.ctx.db
      .selectFrom('sqlite_master' as never)
      .select(['name' as never])
      .where('type' as never, '=', 'table' as never)
      .execute();
    return (rows as { name: string }[]).map((r) => r.name).filter((n) => !n.startsWith('sqlite_')).sort();
  }
  const rows = await h.ctx.db
    .selectFrom('information_schema.tables' as never)
    .select(['table_name' as never])
    .where('table_schema' as never, '=', 'public' as never)
    .where('table_type' as never, '=', 'BASE TABLE' as never)
    .execute();
  return (rows as { table_name: string }[]).map((r) => r.table_name).sort();
}

/** Every row of every table as JSON text, to look for a value anywhere in the database. */
export async function dumpRows(h: Harness): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const table of await allTables(h)) {
    const rows = await (h.ctx.db as any).selectFrom(table).selectAll().execute();
    out.set(
      table,
      rows.map((r: Record<string, unknown>) => JSON.stringify(r, (_k, v) => (Buffer.isBuffer(v) || v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))),
    );
  }
  return out;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lethe …` in-process against the harness database, as an operator would from a shell. */
export async function runCli(h: Harness, args: string[]): Promise<CliRun> {
  const { vi } = await import('vitest');
  const { main } = await import('../main.ts');
  const { TEST_SECRET } = await import('../../test/support/harness.ts');
  const env: Record<string, string | undefined> = { LETHE_DATA_DIR: h.database.dataDir, LETHE_SECRET: TEST_SECRET, DATABASE_URL: h.database.url, LOG_LEVEL: 'silent' };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  }
}
