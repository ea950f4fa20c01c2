import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { newId } from '../ids.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { recordActivity } from '../activity/events.ts';
import { notFound } from '../http/problem.ts';
import { findVisibleContact } from './contact-profile.ts';
import { refuseFrozenEdit } from '../lifecycle/freeze.ts';
import type { Caller } from './contacts.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Page } from './employers.ts';
import type { Viewer } from './visibility.ts';

/**
 * Notes, meetings and tasks are the same thing: a small record hanging off a contact, written by
 * a user, listed newest first, audited with the contact's key. Each kind is described by its
 * fields; one implementation serves all three.
 */
type FieldKind = 'text' | 'longText' | 'timestamp' | 'flag';

interface FieldSpec {
  api: string;
  column: string;
  kind: FieldKind;
  required: boolean;
}

export interface RelatedKind {
  /** URL segment under /api/contacts/:id/ */
  path: 'notes' | 'meetings' | 'tasks';
  table: 'contact_notes' | 'contact_meetings' | 'contact_tasks';
  /** audit target type and activity prefix */
  entity: 'note' | 'meeting' | 'task';
  label: string;
  fields: FieldSpec[];
}

export const relatedKinds: RelatedKind[] = [
  { path: 'notes', table: 'contact_notes', entity: 'note', label: 'Note', fields: [{ api: 'body', column: 'body', kind: 'longText', required: true }] },
  {
    path: 'meetings',
    table: 'contact_meetings',
    entity: 'meeting',
    label: 'Meeting',
    fields: [
      { api: 'title', column: 'title', kind: 'text', required: true },
      { api: 'scheduledAt', column: 'scheduled_at', kind: 'timestamp', required: true },
      { api: 'notes', column: 'notes', kind: 'longText', required: false },
    ],
  },
  {
    path: 'tasks',
    table: 'contact_tasks',
    entity: 'task',
    label: 'Task',
    fields: [
      { api: 'title', column: 'title', kind: 'text', required: true },
      { api: 'dueAt', column: 'due_at', kind: 'timestamp', required: false },
      { api: 'done', column: 'done', kind: 'flag', required: false },
    ],
  },
];

const valueSchemas: Record<FieldKind, z.ZodType> = {
  text: z.string().trim().min(1).max(200),
  longText: z.string().trim().min(1).max(20_000),
  timestamp: z.iso.datetime({ offset: true }),
  flag: z.boolean(),
};
const viewSchemas: Record<FieldKind, z.ZodType> = { text: z.string(), longText: z.string(), timestamp: z.string(), flag: z.boolean() };

export function createSchemaOf(kind: RelatedKind) {
  return z.strictObject(
    Object.fromEntries(kind.fields.map((f) => [f.api, f.required ? valueSchemas[f.kind] : valueSchemas[f.kind].nullable().optional()])),
  );
}

export function updateSchemaOf(kind: RelatedKind) {
  return z.strictObject(
    Object.fromEntries(kind.fields.map((f) => [f.api, (f.required ? valueSchemas[f.kind] : valueSchemas[f.kind].nullable()).optional()])),
  );
}

export function viewSchemaOf(kind: RelatedKind) {
  return z.object({
    id: z.string(),
    contactId: z.string(),
    authorUserId: z.string().nullable(),
    ...Object.fromEntries(kind.fields.map((f) => [f.api, f.required || f.kind === 'flag' ? viewSchemas[f.kind] : viewSchemas[f.kind].nullable()])),
    createdAt: z.string(),
    updatedAt: z.string(),
  });
}

export type RelatedView = { id: string; contactId: string; authorUserId: string | null; createdAt: string; updatedAt: string } & Record<string, unknown>;
type Row = Record<string, unknown> & { id: string; contact_id: string; author_user_id: string | null; created_at: string; updated_at: string };

function toColumn(field: FieldSpec, value: unknown): unknown {
  if (value === undefined || value === null) return field.kind === 'flag' ? 0 : null;
  if (field.kind === 'timestamp') return new Date(value as string).toISOString();
  if (field.kind === 'flag') return value ? 1 : 0;
  return value;
}

function viewOf(kind: RelatedKind, row: Row): RelatedView {
  const view: RelatedView = { id: row.id, contactId: row.contact_id, authorUserId: row.author_user_id, createdAt: row.created_at, updatedAt: row.updated_at };
  for (const f of kind.fields) view[f.api] = f.kind === 'flag' ? row[f.column] === 1 : (row[f.column] ?? null);
  return view;
}

/** The three tables share their shape but not their Kysely type; this is the one place that bridges them. */
const untyped = (db: Db) => db as unknown as Kysely<any>;

async function findRecord(db: Db, kind: RelatedKind, institutionId: string, contactId: string, recordId: string): Promise<Row> {
  const row = await untyped(db)
    .selectFrom(kind.table)
    .selectAll()
    .where('institution_id', '=', institutionId)
    .where('contact_id', '=', contactId)
    .where('id', '=', recordId)
    .executeTakeFirst();
  if (!row) throw notFound(kind.label);
  return row as Row;
}

export async function listRelated(
  db: Db,
  kind: RelatedKind,
  institutionId: string,
  viewer: Viewer,
  contactId: string,
  opts: { after?: string; limit: number },
): Promise<Page<RelatedView>> {
  await findVisibleContact(db, institutionId, viewer, contactId);
  let q = untyped(db).selectFrom(kind.table).selectAll().where('institution_id', '=', institutionId).where('contact_id', '=', contactId);
  if (opts.after) {
    const [createdAt, id] = decodeCursor(kind.path, opts.after, 2);
    q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(String(createdAt), String(id))));
  }
  const rows = (await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit + 1).execute()) as Row[];
  const page = rows.slice(0, opts.limit);
  const last = page.at(-1);
  return { items: page.map((r) => viewOf(kind, r)), nextCursor: rows.length > opts.limit && last ? encodeCursor(kind.path, [last.created_at, last.id]) : null };
}

/** The record's own fields (personal content: sealed in the audit log with the contact's key). */
function contentOf(view: RelatedView, fields: FieldSpec[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f.api, view[f.api]]));
}

async function track(
  ctx: AppContext,
  trx: Db,
  kind: RelatedKind,
  caller: Caller,
  contact: { id: string; institution_id: string; organization_id: string | null },
  recordId: string,
  change: { action: 'create' | 'update' | 'delete'; before?: unknown; after?: unknown; events: string[] },
  now: string,
): Promise<void> {
  await recordAudit(ctx, trx, {
    institutionId: contact.institution_id,
    actor: caller.actor,
    action: `${kind.entity}.${change.action}`,
    target: { type: kind.entity, id: recordId },
    subjectId: contact.id,
    before: change.before,
    after: change.after,
    meta: { contactId: contact.id },
  });
  await recordActivity(
    trx,
    change.events.map((type) => ({
      institutionId: contact.institution_id,
      contactId: contact.id,
      organizationId: contact.organization_id,
      actorUserId: caller.actor.userId,
      type,
      occurredAt: now,
      data: { [`${kind.entity}Id`]: recordId },
    })),
  );
}

export async function createRelated(
  ctx: AppContext,
  kind: RelatedKind,
  institutionId: string,
  caller: Caller,
  contactId: string,
  input: Record<string, unknown>,
): Promise<RelatedView> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.transaction().execute(async (trx) => {
    const contact = await findVisibleContact(trx, institutionId, caller.viewer, contactId);
    await refuseFrozenEdit(trx, contact, [kind.path]);
    const row: Row = {
      id: newId(now.getTime()),
      institution_id: institutionId,
      contact_id: contactId,
      author_user_id: caller.actor.userId,
      ...Object.fromEntries(kind.fields.map((f) => [f.column, toColumn(f, input[f.api])])),
      created_at: at,
      updated_at: at,
    };
    await untyped(trx).insertInto(kind.table).values(row).execute();
    const events = [`${kind.entity}.added`];
    if (kind.entity === 'task' && row.done === 1) events.push('task.completed');
    const view = viewOf(kind, row);
    await track(ctx, trx, kind, caller, contact, row.id, { action: 'create', after: contentOf(view, kind.fields), events }, at);
    return view;
  });
}

export async function updateRelated(
  ctx: AppContext,
  kind: RelatedKind,
  institutionId: string,
  caller: Caller,
  contactId: string,
  recordId: string,
  patch: Record<string, unknown>,
): Promise<RelatedView> {
  const at = ctx.clock.now().toISOString();
  return ctx.db.transaction().execute(async (trx) => {
    const contact = await findVisibleContact(trx, institutionId, caller.viewer, contactId);
    await refuseFrozenEdit(trx, contact, [kind.path]);
    const current = await findRecord(trx, kind, institutionId, contactId, recordId);
    const changed = kind.fields.filter((f) => patch[f.api] !== undefined && toColumn(f, patch[f.api]) !== current[f.column]);
    if (changed.length === 0) return viewOf(kind, current);
    const set = Object.fromEntries(changed.map((f) => [f.column, toColumn(f, patch[f.api])]));
    await untyped(trx)
      .updateTable(kind.table)
      .set({ ...set, updated_at: at })
      .where('id', '=', recordId)
      .execute();
    const next: Row = { ...current, ...set, updated_at: at };
    const view = viewOf(kind, next);
    const events = [`${kind.entity}.updated`];
    if (kind.entity === 'task' && current.done === 0 && next.done === 1) events.push('task.completed');
    await track(
      ctx,
      trx,
      kind,
      caller,
      contact,
      recordId,
      {
        action: 'update',
        before: contentOf(viewOf(kind, current), changed),
        after: contentOf(view, changed),
        events,
      },
      at,
    );
    return view;
  });
}

export async function deleteRelated(
  ctx: AppContext,
  kind: RelatedKind,
  institutionId: string,
  caller: Caller,
  contactId: string,
  recordId: string,
): Promise<void> {
  const at = ctx.clock.now().toISOString();
  await ctx.db.transaction().execute(async (trx) => {
    const contact = await findVisibleContact(trx, institutionId, caller.viewer, contactId);
    await refuseFrozenEdit(trx, contact, [kind.path]);
    const current = await findRecord(trx, kind, institutionId, contactId, recordId);
    await untyped(trx).deleteFrom(kind.table).where('id', '=', recordId).execute();
    await track(ctx, trx, kind, caller, contact, recordId, { action: 'delete', before: contentOf(viewOf(kind, current), kind.fields), events: [`${kind.entity}.deleted`] }, at);
  });
}
