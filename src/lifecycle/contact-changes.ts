import type { AppContext, Db } from '../context.ts';
import type { ApprovalStatus, Visibility } from '../db/schema.ts';
import type { LifecycleRow } from './state.ts';
import { newId } from '../ids.ts';
import type { Actor } from '../audit/audit-log.ts';
import { recordActivity } from '../activity/events.ts';
import type { CheckedAttributeValue } from '../contacts/attributes.ts';
import { activityForChanges, auditPayload, nextUpdatedAt, type ActivityDraft, type FieldChange } from '../contacts/contact-fields.ts';
import { prepareAuditBatch } from './audit-batch.ts';
import { fanOutRows, insertRows, type OnConflict } from '../db/compiled-once.ts';

/** What one contact should become; absent fields stay as they are. */
export interface ContactChange {
  employerId?: string | null;
  visibility?: Visibility;
  approvalStatus?: ApprovalStatus;
  attributes?: CheckedAttributeValue[];
}

export interface ChangeItem {
  row: LifecycleRow;
  change: ContactChange;
  /** the stored values (null: none) of the attributes the change sets, read with the row (loadContacts), by attribute id */
  stored: ReadonlyMap<string, string | null>;
  /** the lifecycle transition this write is part of (archived false → true…), audited with the fields */
  transition?: { before: Record<string, unknown>; after: Record<string, unknown> };
  /** lifecycle activity besides the field events (contact.archived…) */
  events?: ActivityDraft[];
}

export interface AuditSpec {
  action: string;
  actor: Actor;
  /** free text, sealed with each contact's key like the values it explains */
  reason?: string;
}

/** Rows per statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const SLICE = 500;

function* slices<T>(list: T[], size = SLICE): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

/**
 * Applies field changes to many contacts with a handful of set-based statements, writing for each
 * contact exactly what the single-contact update writes: the changed columns and a new updatedAt,
 * employment history (the old employer keeps the contact as a former one), attribute values, the
 * activity events, and one audit entry with before/after sealed with the contact's key.
 * Single lifecycle actions and bulk jobs both come through here, so they cannot drift apart.
 */
export async function applyContactChanges(ctx: AppContext, trx: Db, institutionId: string, items: ChangeItem[], audit: AuditSpec): Promise<Map<string, FieldChange[]>> {
  const now = ctx.clock.now().toISOString();

  // Contacts of a bulk chunk mostly change alike (from the same values to the same values): their
  // events and audit payload are then built once and shared, and serialised once (by identity).
  const shared = new Map<string, Described>();
  const describeShared = (changes: FieldChange[], item: ChangeItem): Described => {
    const key = changeSignature(changes);
    let described = shared.get(key);
    if (!described) shared.set(key, (described = describe(changes, item, audit)));
    return described;
  };
  const result = new Map<string, FieldChange[]>();
  const rowUpdates = new Map<string, { set: Record<string, unknown>; ids: string[] }>();
  const employmentMoves: { contactId: string; to: string | null; at: string }[] = [];
  const attributeDeletes = new Map<string, string[]>();
  const attributeUpserts: { contact_id: string; attribute_id: string; institution_id: string; value_text: string; value_number: number | null }[] = [];
  const activity: Parameters<typeof recordActivity>[1] = [];
  const entries: Parameters<typeof prepareAuditBatch>[3] = [];

  for (const item of items) {
    const { row, change } = item;
    const changes: FieldChange[] = [];
    const set: Record<string, unknown> = {};
    if (change.employerId !== undefined && change.employerId !== row.employer_id) {
      changes.push({ field: 'employerId', before: row.employer_id, after: change.employerId });
      set.employer_id = change.employerId;
    }
    if (change.visibility !== undefined && change.visibility !== row.visibility) {
      changes.push({ field: 'visibility', before: row.visibility, after: change.visibility });
      set.visibility = change.visibility;
    }
    if (change.approvalStatus !== undefined && change.approvalStatus !== row.approval_status) {
      changes.push({ field: 'approvalStatus', before: row.approval_status, after: change.approvalStatus });
      set.approval_status = change.approvalStatus;
    }
    for (const a of change.attributes ?? []) {
      const before = item.stored.get(a.definition.id);
      if (before === undefined) throw new Error(`the stored value of attribute ${a.definition.key} was not read with contact ${row.id}`);
      const after = a.stored?.valueText ?? null;
      if (before === after) continue;
      changes.push({ field: `attributes.${a.definition.key}`, before, after });
      if (a.stored === null) {
        const list = attributeDeletes.get(a.definition.id) ?? [];
        list.push(row.id);
        attributeDeletes.set(a.definition.id, list);
      } else {
        attributeUpserts.push({ contact_id: row.id, attribute_id: a.definition.id, institution_id: institutionId, value_text: a.stored.valueText, value_number: a.stored.valueNumber });
      }
    }
    result.set(row.id, changes);
    if (changes.length === 0 && !item.transition) continue;

    const at = nextUpdatedAt(row.updated_at, now);
    if (changes.length) {
      set.updated_at = at;
      // Contacts that get the same columns set to the same values are updated by one statement.
      const key = `${'employer_id' in set ? `e${set.employer_id ?? '\0'}` : ''}|${set.visibility ?? ''}|${set.approval_status ?? ''}|${at}`;
      const group = rowUpdates.get(key) ?? { set, ids: [] };
      group.ids.push(row.id);
      rowUpdates.set(key, group);
      if ('employer_id' in set) employmentMoves.push({ contactId: row.id, to: set.employer_id as string | null, at });
    }
    const described = item.transition || item.events ? describe(changes, item, audit) : describeShared(changes, item);
    for (const d of described.drafts) {
      activity.push({ institutionId, contactId: row.id, organizationId: row.organization_id, actorUserId: audit.actor.userId, type: d.type, occurredAt: at, data: d.data });
    }
    entries.push({ actor: audit.actor, action: audit.action, target: { type: 'contact', id: row.id }, subjectId: row.id, before: described.before, after: described.after, meta: described.meta });
  }

  // The audit entries are sealed (on the sealing thread, for a bulk chunk) while the rows are written.
  const audited = await prepareAuditBatch(ctx, trx, institutionId, entries);
  for (const { set, ids: group } of rowUpdates.values()) {
    for (const part of slices(group)) await trx.updateTable('contacts').set(set).where('id', 'in', part).execute();
  }
  await moveEmployments(trx, institutionId, employmentMoves);
  for (const [attributeId, contactIds] of attributeDeletes) {
    for (const part of slices(contactIds)) {
      await trx.deleteFrom('contact_attribute_values').where('attribute_id', '=', attributeId).where('contact_id', 'in', part).execute();
    }
  }
  await fanOutRows(trx, 'contact_attribute_values', attributeUpserts, 'contact_id', replaceValue);
  await recordActivity(trx, activity);
  await audited.append();
  return result;
}

interface Described {
  drafts: ActivityDraft[];
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  meta: { fields: string[] };
}

/** One contact's activity events and audit payload for its field changes and lifecycle transition. */
function describe(changes: FieldChange[], item: ChangeItem, audit: AuditSpec): Described {
  const payload = auditPayload(changes);
  return {
    drafts: [...activityForChanges(changes, false).filter((e) => e.type !== 'consent.authorization_changed'), ...(item.events ?? [])],
    before: { ...payload.before, ...item.transition?.before },
    after: { ...payload.after, ...item.transition?.after, ...(audit.reason ? { reason: audit.reason } : {}) },
    meta: { fields: changes.map((c) => c.field) },
  };
}

/** Changes with the same signature have the same fields, before and after values (strings or null here; anything else by its JSON). */
function changeSignature(changes: FieldChange[]): string {
  let key = '';
  for (const c of changes) key += `${c.field.length}:${c.field}${tagged(c.before)}${tagged(c.after)}`;
  return key;
}
function tagged(value: unknown): string {
  if (value === null) return 'n';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `${typeof value === 'string' ? 's' : 'j'}${text.length}:${text}`;
}

const replaceValue: OnConflict<'contact_attribute_values'> = {
  name: 'replace-value',
  clause: (insert) =>
    insert.onConflict((oc) =>
      oc.columns(['contact_id', 'attribute_id']).doUpdateSet((eb) => ({ value_text: eb.ref('excluded.value_text'), value_number: eb.ref('excluded.value_number') })),
    ),
};

/** Ends each contact's open employment and opens one at the new employer (as moveEmployment does for one). */
async function moveEmployments(trx: Db, institutionId: string, moves: { contactId: string; to: string | null; at: string }[]): Promise<void> {
  const byTime = new Map<string, string[]>();
  for (const m of moves) {
    const list = byTime.get(m.at) ?? [];
    list.push(m.contactId);
    byTime.set(m.at, list);
  }
  for (const [at, contactIds] of byTime) {
    for (const part of slices(contactIds)) {
      await trx.updateTable('contact_employments').set({ ended_at: at }).where('contact_id', 'in', part).where('ended_at', 'is', null).execute();
    }
  }
  const opened = moves
    .filter((m) => m.to !== null)
    .map((m) => ({ id: newId(Date.parse(m.at)), institution_id: institutionId, contact_id: m.contactId, employer_id: m.to!, started_at: m.at, ended_at: null }));
  await insertRows(trx, 'contact_employments', opened);
}
