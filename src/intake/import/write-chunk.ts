import type { AppContext, Db } from '../../context.ts';
import type { Contact, DuplicatePolicy } from '../../db/schema.ts';
import { newId } from '../../ids.ts';
import { recordAudit, type Actor } from '../../audit/audit-log.ts';
import { recordActivity, type ActivityInput } from '../../activity/events.ts';
import { activityForChanges, auditPayload } from '../../contacts/contact-fields.ts';
import { moveEmployment } from '../../contacts/employers.ts';
import type { DuplicateRule } from '../rules/duplicate-rule.ts';
import { candidateLookups, existingProfileFromRow, isDuplicate, type IndexedLookup } from '../rules/match.ts';
import { applyDuplicatePolicy, type ContactState, type StateChange } from './apply-policy.ts';
import type { PreparedContact, PreparedRow, RowError } from './prepare-row.ts';
import { suppressionCheckFor } from '../../lifecycle/suppression.ts';
import { insertRows } from '../../db/compiled-once.ts';

/**
 * Writes one chunk of prepared rows in the caller's transaction: dedupe (against the store with
 * batched index look-ups, and against rows earlier in the file), creates, policy updates, the
 * error report lines, the audit entries, and the checkpoint. Because the checkpoint commits with
 * the rows, a crash at any point leaves either the whole chunk or none of it.
 *
 * Audit: each contact an import changes gets its own `contact.update` entry (before/after sealed
 * with that contact's key, as for any edit). Contacts it creates are recorded by one
 * `import.chunk` entry per chunk naming every id (no personal values), beside one
 * `contact.created` activity event per contact: the row itself is the "after", and a sealed
 * entry per created contact would add a data key and an audit row to each of a million inserts
 * (see docs/architecture.md).
 */

export interface ImportJobInfo {
  id: string;
  institutionId: string;
  /** the organization created contacts are recorded as coming from, unless their row names one */
  organizationId: string | null;
  policy: DuplicatePolicy;
  rule: DuplicateRule;
  actor: Actor;
}

export interface ChunkCounts {
  created: number;
  updated: number;
  duplicates: number;
  invalid: number;
  suppressed: number;
  blank: number;
}

/** Employer ids by folded name, kept for the whole import (institutions have few employers). */
export type EmployerCache = Map<string, string>;

type Tracked = {
  id: string;
  isNew: boolean;
  row: Contact;
  state: ContactState;
  /** store contacts only: every change the file made, first before and last after */
  changes: Map<string, StateChange>;
  firstRow: number;
};

const columnOf: Record<IndexedLookup['column'], 'email_normalized' | 'mobile_e164' | 'ssn_hash_full'> = {
  email_normalized: 'email_normalized',
  mobile_e164: 'mobile_e164',
  ssn_hash_full: 'ssn_hash_full',
};

function stateOf(row: Contact, employerFolded: { name: string; folded: string } | null): ContactState {
  return {
    first_name: row.first_name,
    first_name_folded: row.first_name_folded,
    last_name: row.last_name,
    last_name_folded: row.last_name_folded,
    email: row.email,
    email_normalized: row.email_normalized,
    mobile_phone: row.mobile_phone,
    mobile_e164: row.mobile_e164,
    ssn_hash_full: row.ssn_hash_full,
    ssn_hash_last6: row.ssn_hash_last6,
    ssn_hash_last4: row.ssn_hash_last4,
    employer: employerFolded,
    attributes: new Map(),
  };
}

/**
 * IN lists are padded to a power of two by repeating their last value, so that SQLite prepares
 * (and the store caches) few statement shapes (see batchSizes in src/db/compiled-once.ts).
 */
export function paddedInList(values: string[]): string[] {
  let size = 1;
  while (size < values.length) size <<= 1;
  return size === values.length ? values : [...values, ...new Array<string>(size - values.length).fill(values[values.length - 1])];
}

/** Finds or creates the employers named in the chunk; returns their ids by folded name. */
async function resolveEmployers(trx: Db, institutionId: string, wanted: Map<string, string>, cache: EmployerCache, now: string): Promise<string[]> {
  const missing = [...wanted.keys()].filter((folded) => !cache.has(folded));
  const created: string[] = [];
  if (missing.length === 0) return created;
  const load = async () => {
    const rows = await trx.selectFrom('employers').select(['id', 'name_folded']).where('institution_id', '=', institutionId).where('name_folded', 'in', paddedInList(missing)).execute();
    for (const r of rows) cache.set(r.name_folded, r.id);
  };
  await load();
  const toCreate = missing.filter((folded) => !cache.has(folded));
  if (toCreate.length) {
    const rows = toCreate.map((folded) => ({ id: newId(), institution_id: institutionId, name: wanted.get(folded)!, name_folded: folded, created_at: now }));
    await trx.insertInto('employers').values(rows).onConflict((oc) => oc.columns(['institution_id', 'name_folded']).doNothing()).execute();
    await load();
    created.push(...rows.filter((r) => cache.get(r.name_folded) === r.id).map((r) => r.id));
  }
  return created;
}

export async function writeChunk(
  ctx: Pick<AppContext, 'clock' | 'secrets' | 'store'>,
  trx: Db,
  job: ImportJobInfo,
  rows: PreparedRow[],
  employers: EmployerCache,
): Promise<ChunkCounts> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const counts: ChunkCounts = { created: 0, updated: 0, duplicates: 0, invalid: 0, suppressed: 0, blank: 0 };
  const errors: { row: number; errors: RowError[] }[] = [];
  const okRows: Extract<PreparedRow, { kind: 'ok' }>[] = [];
  for (const r of rows) {
    if (r.kind === 'ok') okRows.push(r);
    else if (r.kind === 'blank') counts.blank++;
    else {
      counts.invalid++;
      errors.push({ row: r.row, errors: r.errors });
    }
  }

  // 1. Batched look-ups: one IN list per indexed column the rule uses.
  const lookupsOf = okRows.map((r) => candidateLookups(job.rule, r.candidate));
  const wantedValues = new Map<IndexedLookup['column'], Set<string>>();
  for (const lookups of lookupsOf) for (const l of lookups) (wantedValues.get(l.column) ?? wantedValues.set(l.column, new Set()).get(l.column)!).add(l.value);
  const index = new Map<string, Tracked[]>(); // `${column}\u0000${value}` → contacts, oldest first
  const tracked = new Map<string, Tracked>();
  const key = (column: string, value: string) => `${column}\u0000${value}`;
  const addToIndex = (t: Tracked) => {
    for (const column of ['email_normalized', 'mobile_e164', 'ssn_hash_full'] as const) {
      const value = t.state[column];
      if (!value) continue;
      const k = key(column, value);
      const list = index.get(k);
      if (!list) index.set(k, [t]);
      else if (!list.includes(t)) list.push(t);
    }
  };
  const found: Contact[] = [];
  for (const [column, values] of wantedValues) {
    const list = [...values];
    for (let i = 0; i < list.length; i += 1024) {
      found.push(
        ...(await trx
          .selectFrom('contacts')
          .selectAll()
          .where('institution_id', '=', job.institutionId)
          .where(columnOf[column], 'in', paddedInList(list.slice(i, i + 1024)))
          .execute()),
      );
    }
  }
  found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const row of found) {
    if (tracked.has(row.id)) continue;
    const t: Tracked = { id: row.id, isNew: false, row, state: stateOf(row, null), changes: new Map(), firstRow: 0 };
    tracked.set(row.id, t);
    addToIndex(t);
  }
  // Current employers and attribute values of matched contacts, for fill_empty / overwrite.
  if (job.policy !== 'skip' && found.length) {
    const employerIds = [...new Set(found.map((c) => c.employer_id).filter((e): e is string => e !== null))];
    if (employerIds.length) {
      const names = await trx.selectFrom('employers').select(['id', 'name', 'name_folded']).where('id', 'in', paddedInList(employerIds)).execute();
      const byId = new Map(names.map((n) => [n.id, n]));
      for (const t of tracked.values()) {
        const e = t.row.employer_id ? byId.get(t.row.employer_id) : undefined;
        if (e) t.state.employer = { name: e.name, folded: e.name_folded };
      }
    }
    const values = await trx
      .selectFrom('contact_attribute_values')
      .innerJoin('attribute_definitions', 'attribute_definitions.id', 'contact_attribute_values.attribute_id')
      .select(['contact_attribute_values.contact_id', 'contact_attribute_values.attribute_id', 'attribute_definitions.key', 'contact_attribute_values.value_text', 'contact_attribute_values.value_number'])
      .where('contact_attribute_values.contact_id', 'in', paddedInList([...tracked.keys()]))
      .execute();
    for (const v of values) tracked.get(v.contact_id)!.state.attributes.set(v.attribute_id, { key: v.key, valueText: v.value_text, valueNumber: v.value_number });
  }

  // 2. Decide each row in file order; rows created earlier in the chunk are candidates too.
  // People expunged earlier do not come back through a file when the institution keeps the suppression list.
  const suppression = okRows.length ? await suppressionCheckFor(ctx, trx, job.institutionId) : null;
  const suppressed = suppression ? await suppression(okRows.map((r) => ({ email: r.contact.email_normalized, mobileE164: r.contact.mobile_e164 }))) : null;
  const createdList: { t: Tracked; prepared: PreparedContact; row: number }[] = [];
  const updatedStore = new Map<string, Tracked>();
  const stampMs = now.getTime();
  okRows.forEach((r, i) => {
    const lookups = lookupsOf[i];
    let match: Tracked | null = null;
    if (lookups.length) {
      const seen = new Set<string>();
      const candidates: Tracked[] = [];
      for (const l of lookups) for (const t of index.get(key(l.column, l.value)) ?? []) if (!seen.has(t.id) && seen.add(t.id)) candidates.push(t);
      // Store contacts (older ids) before those this file created, each group oldest first.
      candidates.sort((a, b) => (a.isNew === b.isNew ? (a.id < b.id ? -1 : 1) : a.isNew ? 1 : -1));
      match = candidates.find((t) => isDuplicate(job.rule, r.candidate, existingProfileFromRow(t.state)).duplicate) ?? null;
    }
    if (match) {
      const changes = applyDuplicatePolicy(job.policy, match.state, r.contact);
      if (changes.length === 0) {
        counts.duplicates++;
        return;
      }
      counts.updated++;
      if (!match.isNew) {
        for (const c of changes) {
          const previous = match.changes.get(c.field);
          match.changes.set(c.field, previous ? { ...c, before: previous.before } : c);
        }
        if (!match.firstRow) match.firstRow = r.row;
        updatedStore.set(match.id, match);
      }
      addToIndex(match);
      return;
    }
    if (suppressed?.[i]) {
      counts.suppressed++;
      return;
    }
    const c = r.contact;
    const id = newId(stampMs);
    const row: Contact = {
      id,
      institution_id: job.institutionId,
      organization_id: c.organizationId ?? job.organizationId,
      first_name: c.first_name,
      last_name: c.last_name,
      first_name_folded: c.first_name_folded,
      last_name_folded: c.last_name_folded,
      email: c.email,
      email_normalized: c.email_normalized,
      mobile_phone: c.mobile_phone,
      mobile_e164: c.mobile_e164,
      ssn_hash_full: c.ssn_hash_full,
      ssn_hash_last6: c.ssn_hash_last6,
      ssn_hash_last4: c.ssn_hash_last4,
      employer_id: null,
      owner_user_id: null,
      visibility: 'everyone',
      approval_status: 'approved',
      source: 'bulk_import',
      opt_in_status: 'unknown',
      opt_in_changed_at: null,
      created_at: at,
      updated_at: at,
    };
    const state = stateOf(row, c.employer);
    for (const a of c.attributes) state.attributes.set(a.attribute.id, { key: a.attribute.key, valueText: a.value.valueText, valueNumber: a.value.valueNumber });
    const t: Tracked = { id, isNew: true, row, state, changes: new Map(), firstRow: r.row };
    tracked.set(id, t);
    addToIndex(t);
    createdList.push({ t, prepared: c, row: r.row });
    counts.created++;
  });

  // 3. Employers named by what is written.
  const wantedEmployers = new Map<string, string>();
  for (const { t } of createdList) if (t.state.employer) wantedEmployers.set(t.state.employer.folded, t.state.employer.name);
  for (const t of updatedStore.values()) if (t.changes.has('employer') && t.state.employer) wantedEmployers.set(t.state.employer.folded, t.state.employer.name);
  const newEmployers = await resolveEmployers(trx, job.institutionId, wantedEmployers, employers, at);

  // 4. Creates: contacts, employments, attribute values, activity.
  const contactRows = createdList.map(({ t }) => {
    const s = t.state;
    return {
      ...t.row,
      first_name: s.first_name,
      first_name_folded: s.first_name_folded,
      last_name: s.last_name,
      last_name_folded: s.last_name_folded,
      email: s.email,
      email_normalized: s.email_normalized,
      mobile_phone: s.mobile_phone,
      mobile_e164: s.mobile_e164,
      ssn_hash_full: s.ssn_hash_full,
      ssn_hash_last6: s.ssn_hash_last6,
      ssn_hash_last4: s.ssn_hash_last4,
      employer_id: s.employer ? employers.get(s.employer.folded)! : null,
    };
  });
  await insertRows(trx, 'contacts', contactRows);
  const employments = contactRows
    .filter((c) => c.employer_id)
    .map((c) => ({ id: newId(stampMs), institution_id: job.institutionId, contact_id: c.id, employer_id: c.employer_id!, started_at: at, ended_at: null }));
  await insertRows(trx, 'contact_employments', employments);
  const attributeValues = createdList.flatMap(({ t }) =>
    [...t.state.attributes].map(([attributeId, v]) => ({
      contact_id: t.id,
      attribute_id: attributeId,
      institution_id: job.institutionId,
      value_text: v.valueText,
      value_number: v.valueNumber,
    })),
  );
  await insertRows(trx, 'contact_attribute_values', attributeValues);
  const activity: ActivityInput[] = createdList.map(({ t }) => ({
    institutionId: job.institutionId,
    contactId: t.id,
    organizationId: t.row.organization_id,
    actorUserId: job.actor.userId,
    type: 'contact.created',
    occurredAt: at,
    data: { source: 'bulk_import', importId: job.id, attributes: [...t.state.attributes.values()].map((a) => a.key).sort(), authorizations: [], anyGranted: false },
  }));
  await recordActivity(trx, activity);

  // 5. Updates of contacts that were in the store before this chunk: each audited on its own.
  for (const t of updatedStore.values()) {
    const s = t.state;
    const employerId = t.changes.has('employer') && s.employer ? employers.get(s.employer.folded)! : t.row.employer_id;
    const updatedAt = new Date(Math.max(stampMs, Date.parse(t.row.updated_at) + 1)).toISOString();
    await trx
      .updateTable('contacts')
      .set({
        first_name: s.first_name,
        first_name_folded: s.first_name_folded,
        last_name: s.last_name,
        last_name_folded: s.last_name_folded,
        email: s.email,
        email_normalized: s.email_normalized,
        mobile_phone: s.mobile_phone,
        mobile_e164: s.mobile_e164,
        ssn_hash_full: s.ssn_hash_full,
        ssn_hash_last6: s.ssn_hash_last6,
        ssn_hash_last4: s.ssn_hash_last4,
        employer_id: employerId,
        updated_at: updatedAt,
      })
      .where('id', '=', t.id)
      .execute();
    if (t.changes.has('employer') && employerId !== t.row.employer_id) await moveEmployment(trx, job.institutionId, t.id, employerId, updatedAt);
    const changedAttributes = [...t.changes.keys()].filter((f) => f.startsWith('attributes.')).map((f) => f.slice('attributes.'.length));
    for (const [attributeId, v] of s.attributes) {
      if (!changedAttributes.includes(v.key)) continue;
      await trx
        .insertInto('contact_attribute_values')
        .values({ contact_id: t.id, attribute_id: attributeId, institution_id: job.institutionId, value_text: v.valueText, value_number: v.valueNumber })
        .onConflict((oc) => oc.columns(['contact_id', 'attribute_id']).doUpdateSet({ value_text: v.valueText, value_number: v.valueNumber }))
        .execute();
    }
    const changes = [...t.changes.values()];
    const { before, after } = auditPayload(changes);
    await recordAudit(ctx, trx, {
      institutionId: job.institutionId,
      actor: job.actor,
      action: 'contact.update',
      target: { type: 'contact', id: t.id },
      subjectId: t.id,
      before,
      after,
      meta: { fields: changes.map((c) => c.field), importId: job.id, row: t.firstRow, policy: job.policy },
    });
    const events = activityForChanges(
      changes.map((c) => (c.field === 'employer' ? { field: 'employerId', before: t.row.employer_id, after: employerId } : c)),
      false,
    );
    await recordActivity(
      trx,
      events.map((e) => ({
        institutionId: job.institutionId,
        contactId: t.id,
        organizationId: t.row.organization_id,
        actorUserId: job.actor.userId,
        type: e.type,
        occurredAt: updatedAt,
        data: { ...e.data, importId: job.id },
      })),
    );
  }

  // 6. The error report lines.
  const errorRows = errors.flatMap((e) => e.errors.map((err, seq) => ({ import_id: job.id, row_number: e.row, seq, field: err.field, message: err.message })));
  await insertRows(trx, 'import_errors', errorRows);

  // 7. One entry naming what the chunk created (ids only).
  if (createdList.length || newEmployers.length) {
    await recordAudit(ctx, trx, {
      institutionId: job.institutionId,
      actor: job.actor,
      action: 'import.chunk',
      target: { type: 'import', id: job.id },
      meta: {
        rows: rows.length ? [rows[0].row, rows[rows.length - 1].row] : [],
        created: createdList.map((c) => c.t.id),
        updated: [...updatedStore.keys()],
        employersCreated: newEmployers,
        counts,
      },
    });
  }
  return counts;
}
