import { sql } from 'kysely';
import type { AppContext, Db } from '../../context.ts';
import type { Contact } from '../../db/schema.ts';
import { newId } from '../../ids.ts';
import { recordAudit } from '../../audit/audit-log.ts';
import { destroyDataKey } from '../../audit/data-keys.ts';
import { recordActivity } from '../../activity/events.ts';
import { activityForChanges } from '../../contacts/contact-fields.ts';
import { findVisibleContact, getContactProfile, type ContactProfile } from '../../contacts/contact-profile.ts';
import type { Caller } from '../../contacts/contacts.ts';
import { invalidFields } from '../../http/problem.ts';
import { isUniqueViolation } from '../../db/unique-violation.ts';
import { moveApplications } from '../applications.ts';
import { checkChoices, planMerge, type FieldDecision, type MergeSide, type MergeSideData } from './merge-plan.ts';

/**
 * Merging two contacts into one (the survivor), in one transaction: the survivor takes each
 * field's chosen value, every record that hangs off the other contact moves to the survivor
 * (notes, meetings, tasks, employments, consent, attribute values it lacks, activity, outbox
 * messages, applications, and any later table with a contact_id column), then the other contact
 * is deleted and its data key destroyed, so its own audit entries become unreadable while the
 * merge entry keeps both "before" versions sealed with the survivor's key.
 */

export interface MergeRequest {
  otherId: string;
  choices?: Record<string, MergeSide>;
}

export interface MergePreview {
  survivorId: string;
  otherId: string;
  fields: FieldDecision[];
  /** records that would move from the other contact, per table */
  moves: Record<string, number>;
}

export interface MergeResult {
  contact: ContactProfile;
  mergedId: string;
  fields: FieldDecision[];
  moved: Record<string, number>;
}

/**
 * Tables handled one by one (field by field, or applications, which are re-sealed with the
 * survivor's key); every other table with a contact_id column moves wholesale.
 */
const handled = new Set(['contacts', 'contact_attribute_values', 'contact_authorizations', 'contact_employments', 'applications']);

export async function tablesWithContactId(db: Db, engine: 'sqlite' | 'postgres'): Promise<string[]> {
  const rows =
    engine === 'postgres'
      ? await sql<{ name: string }>`select table_name as name from information_schema.columns where table_schema = current_schema() and column_name = 'contact_id' order by table_name`.execute(db)
      : await sql<{ name: string }>`select m.name as name from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table' and p.name = 'contact_id' order by m.name`.execute(db);
  return rows.rows.map((r) => r.name).filter((n) => !handled.has(n));
}

async function sideData(db: Db, contact: Contact): Promise<MergeSideData> {
  const rows = await db
    .selectFrom('contact_attribute_values')
    .innerJoin('attribute_definitions', 'attribute_definitions.id', 'contact_attribute_values.attribute_id')
    .select(['attribute_definitions.key', 'contact_attribute_values.attribute_id', 'contact_attribute_values.value_text', 'contact_attribute_values.value_number'])
    .where('contact_attribute_values.contact_id', '=', contact.id)
    .execute();
  return { contact, attributes: new Map(rows.map((r) => [r.key, { attributeId: r.attribute_id, valueText: r.value_text, valueNumber: r.value_number }])) };
}

async function load(db: Db, institutionId: string, caller: Caller, survivorId: string, request: MergeRequest, lock: boolean) {
  if (request.otherId === survivorId) throw invalidFields([{ field: 'otherId', message: 'must be another contact than the survivor' }], 'A contact cannot be merged into itself.');
  // Lock in id order, so two merges of the same pair cannot deadlock.
  const [firstId, secondId] = survivorId < request.otherId ? [survivorId, request.otherId] : [request.otherId, survivorId];
  const first = await findVisibleContact(db, institutionId, caller.viewer, firstId, lock);
  const second = await findVisibleContact(db, institutionId, caller.viewer, secondId, lock);
  const [survivor, other] = first.id === survivorId ? [first, second] : [second, first];
  const s = await sideData(db, survivor);
  const o = await sideData(db, other);
  const choices = request.choices ?? {};
  const errors = checkChoices(choices, new Set([...s.attributes.keys(), ...o.attributes.keys()]));
  if (errors.length) throw invalidFields(errors, `The merge choices are not valid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`);
  return { survivor: s, other: o, plan: planMerge(s, o, choices) };
}

async function countMoves(db: Db, engine: 'sqlite' | 'postgres', otherId: string): Promise<Record<string, number>> {
  const moves: Record<string, number> = {};
  for (const table of ['contact_employments', 'contact_authorizations', 'contact_attribute_values', 'applications', ...(await tablesWithContactId(db, engine))]) {
    const row = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)} where contact_id = ${otherId}`.execute(db);
    const n = Number(row.rows[0]?.n ?? 0);
    if (n) moves[table] = n;
  }
  return moves;
}

export async function previewMerge(ctx: AppContext, institutionId: string, caller: Caller, survivorId: string, request: MergeRequest): Promise<MergePreview> {
  const { survivor, other, plan } = await load(ctx.db, institutionId, caller, survivorId, request, false);
  return { survivorId: survivor.contact.id, otherId: other.contact.id, fields: plan.fields, moves: await countMoves(ctx.db, ctx.store.kind, other.contact.id) };
}

function snapshot(side: MergeSideData, authorizations: Record<string, boolean>): Record<string, unknown> {
  const c = side.contact;
  return {
    firstName: c.first_name,
    lastName: c.last_name,
    email: c.email,
    mobilePhone: c.mobile_phone,
    ssn: c.ssn_hash_full || c.ssn_hash_last6 || c.ssn_hash_last4 ? 'set' : null,
    employerId: c.employer_id,
    organizationId: c.organization_id,
    ownerUserId: c.owner_user_id,
    visibility: c.visibility,
    approvalStatus: c.approval_status,
    optInStatus: c.opt_in_status,
    source: c.source,
    createdAt: c.created_at,
    attributes: Object.fromEntries([...side.attributes].map(([k, v]) => [k, v.valueText])),
    authorizations,
  };
}

/**
 * Points a table's rows from one contact to the other. When that breaks a unique constraint
 * (both contacts hold the same membership), it goes row by row under savepoints and deletes the
 * rows the survivor already has an equivalent of.
 */
async function moveRows(trx: Db, engine: 'sqlite' | 'postgres', table: string, fromId: string, toId: string): Promise<{ moved: number; dropped: number }> {
  await sql`savepoint lethe_merge_move`.execute(trx);
  try {
    const r = await sql`update ${sql.table(table)} set contact_id = ${toId} where contact_id = ${fromId}`.execute(trx);
    await sql`release savepoint lethe_merge_move`.execute(trx);
    return { moved: Number(r.numAffectedRows ?? 0), dropped: 0 };
  } catch (error) {
    await sql`rollback to savepoint lethe_merge_move`.execute(trx);
    await sql`release savepoint lethe_merge_move`.execute(trx);
    if (!isUniqueViolation(error)) throw error;
  }
  const key = engine === 'postgres' ? sql`ctid::text` : sql`rowid`;
  const match = (k: string | number) => (engine === 'postgres' ? sql`ctid = ${String(k)}::tid` : sql`rowid = ${k}`);
  const rows = await sql<{ k: string | number }>`select ${key} as k from ${sql.table(table)} where contact_id = ${fromId}`.execute(trx);
  let moved = 0;
  let dropped = 0;
  for (const { k } of rows.rows) {
    await sql`savepoint lethe_merge_row`.execute(trx);
    try {
      await sql`update ${sql.table(table)} set contact_id = ${toId} where ${match(k)}`.execute(trx);
      await sql`release savepoint lethe_merge_row`.execute(trx);
      moved++;
    } catch (error) {
      await sql`rollback to savepoint lethe_merge_row`.execute(trx);
      await sql`release savepoint lethe_merge_row`.execute(trx);
      if (!isUniqueViolation(error)) throw error;
      await sql`delete from ${sql.table(table)} where ${match(k)}`.execute(trx);
      dropped++;
    }
  }
  return { moved, dropped };
}

async function authorizationMap(db: Db, contactId: string) {
  const rows = await db.selectFrom('contact_authorizations').selectAll().where('contact_id', '=', contactId).execute();
  return new Map(rows.map((r) => [r.purpose, r]));
}

export async function mergeContacts(ctx: AppContext, institutionId: string, caller: Caller, survivorId: string, request: MergeRequest): Promise<MergeResult> {
  const engine = ctx.store.kind;
  const result = await ctx.db.transaction().execute(async (trx) => {
    const { survivor, other, plan } = await load(trx, institutionId, caller, survivorId, request, engine === 'postgres');
    const s = survivor.contact;
    const o = other.contact;
    const now = ctx.clock.now();
    const at = new Date(Math.max(now.getTime(), Date.parse(s.updated_at) + 1)).toISOString();
    const moved: Record<string, number> = {};
    const count = (table: string, n: number | bigint | undefined) => {
      if (Number(n ?? 0) > 0) moved[table] = (moved[table] ?? 0) + Number(n);
    };

    const sAuth = await authorizationMap(trx, s.id);
    const oAuth = await authorizationMap(trx, o.id);
    const before = { survivor: snapshot(survivor, Object.fromEntries([...sAuth].map(([p, r]) => [p, r.granted === 1]))), other: snapshot(other, Object.fromEntries([...oAuth].map(([p, r]) => [p, r.granted === 1]))) };

    // 1. The survivor's own fields.
    const set: Partial<Contact> = { ...plan.columns, updated_at: at };
    await trx.updateTable('contacts').set(set).where('id', '=', s.id).execute();

    // 2. Employment history: all of it moves; then exactly the surviving employer stays current.
    count('contact_employments', (await trx.updateTable('contact_employments').set({ contact_id: s.id }).where('contact_id', '=', o.id).executeTakeFirst()).numUpdatedRows);
    const employerId = (set.employer_id !== undefined ? set.employer_id : s.employer_id) ?? null;
    const open = await trx.selectFrom('contact_employments').select(['id', 'employer_id', 'started_at']).where('contact_id', '=', s.id).where('ended_at', 'is', null).orderBy('started_at').execute();
    const keep = open.find((e) => e.employer_id === employerId);
    const toEnd = open.filter((e) => e !== keep).map((e) => e.id);
    if (toEnd.length) await trx.updateTable('contact_employments').set({ ended_at: at }).where('id', 'in', toEnd).execute();
    if (employerId && !keep) {
      await trx.insertInto('contact_employments').values({ id: newId(), institution_id: institutionId, contact_id: s.id, employer_id: employerId, started_at: at, ended_at: null }).execute();
    }

    // 3. Attribute values: the chosen ones on the survivor; the other's go with it.
    for (const [key, value] of plan.attributes) {
      const current = survivor.attributes.get(key) ?? null;
      if ((current?.valueText ?? null) === (value?.valueText ?? null)) continue;
      if (value === null) {
        await trx.deleteFrom('contact_attribute_values').where('contact_id', '=', s.id).where('attribute_id', '=', current!.attributeId).execute();
      } else {
        await trx
          .insertInto('contact_attribute_values')
          .values({ contact_id: s.id, attribute_id: value.attributeId, institution_id: institutionId, value_text: value.valueText, value_number: value.valueNumber })
          .onConflict((oc) => oc.columns(['contact_id', 'attribute_id']).doUpdateSet({ value_text: value.valueText, value_number: value.valueNumber }))
          .execute();
        if (!current) count('contact_attribute_values', 1);
      }
    }

    // 4. Consent: purposes only the other contact had move; for a purpose both had, the newer statement wins.
    for (const [purpose, theirs] of oAuth) {
      const ours = sAuth.get(purpose);
      if (!ours) {
        await trx.updateTable('contact_authorizations').set({ contact_id: s.id }).where('contact_id', '=', o.id).where('purpose', '=', purpose).execute();
        count('contact_authorizations', 1);
      } else if (theirs.updated_at > ours.updated_at) {
        await trx.updateTable('contact_authorizations').set({ granted: theirs.granted, updated_at: theirs.updated_at }).where('contact_id', '=', s.id).where('purpose', '=', purpose).execute();
        count('contact_authorizations', 1);
      }
    }

    // 5. Applications are sealed with their contact's data key, which goes with the other
    //    contact below: re-seal them with the survivor's key while the old one still exists.
    count('applications', await moveApplications(ctx, trx, institutionId, o.id, s.id));

    // 6. Everything else that names the other contact. A membership both contacts already have
    //    (the same project, the same sequence) cannot move: the survivor's stays, the other's goes.
    const dropped: Record<string, number> = {};
    for (const table of await tablesWithContactId(trx, engine)) {
      const n = await moveRows(trx, engine, table, o.id, s.id);
      count(table, n.moved);
      if (n.dropped) dropped[table] = n.dropped;
    }

    // 7. The other contact goes; so do its stored idempotent responses and its data key.
    await trx.deleteFrom('idempotency_keys').where('resource_id', '=', o.id).execute();
    await trx.deleteFrom('contacts').where('id', '=', o.id).execute();

    const after = await sideData(trx, (await trx.selectFrom('contacts').selectAll().where('id', '=', s.id).executeTakeFirstOrThrow()) as Contact);
    const afterAuth = await authorizationMap(trx, s.id);
    const fromOther = plan.fields.filter((f) => f.chosen === 'other').map((f) => f.field);
    await recordAudit(ctx, trx, {
      institutionId,
      actor: caller.actor,
      action: 'contact.merge',
      target: { type: 'contact', id: s.id },
      subjectId: s.id,
      before,
      after: snapshot(after, Object.fromEntries([...afterAuth].map(([p, r]) => [p, r.granted === 1]))),
      meta: { mergedId: o.id, fieldsFromOther: fromOther, changed: plan.changed, moved, droppedAsDuplicate: dropped },
    });
    await recordAudit(ctx, trx, {
      institutionId,
      actor: caller.actor,
      action: 'contact.merged_into',
      target: { type: 'contact', id: o.id },
      meta: { survivorId: s.id },
    });
    await destroyDataKey(trx, o.id);

    const changes = plan.fields.filter((f) => plan.changed.includes(f.field)).map((f) => ({ field: f.field === 'ssn' ? 'ssn' : f.field, before: f.survivor, after: f.result }));
    const events = [{ type: 'contact.merged', data: { mergedId: o.id, fieldsFromOther: fromOther, moved } }, ...activityForChanges(changes, [...afterAuth.values()].some((a) => a.granted === 1))];
    await recordActivity(
      trx,
      events.map((e) => ({ institutionId, contactId: s.id, organizationId: after.contact.organization_id, actorUserId: caller.actor.userId, type: e.type, occurredAt: at, data: e.data })),
    );
    return { survivorId: s.id, mergedId: o.id, fields: plan.fields, moved };
  });
  if (ctx.store.kind === 'sqlite') await ctx.store.compact();
  return { contact: await getContactProfile(ctx.db, institutionId, caller.viewer, result.survivorId), mergedId: result.mergedId, fields: result.fields, moved: result.moved };
}

