import type { Db } from '../context.ts';
import type { Contact } from '../db/schema.ts';
import { visibleTo, type Viewer } from '../contacts/visibility.ts';
import { contactsInTenant } from '../contacts/by-ids.ts';
import type { LifecycleState } from './rules.ts';

/**
 * The columns lifecycle actions read: the decision, the field changes they write, and what erasure
 * needs for its notices and the suppression list. Not the whole row: a bulk chunk reads a thousand.
 */
export const lifecycleColumns = ['id', 'organization_id', 'employer_id', 'visibility', 'approval_status', 'updated_at', 'email', 'email_normalized', 'mobile_e164'] as const;
export type LifecycleRow = Pick<Contact, (typeof lifecycleColumns)[number]>;

export interface LoadedContact {
  id: string;
  state: LifecycleState;
  /** the row, when the contact exists and the viewer may see it */
  row: LifecycleRow | null;
  archive: { previousEmployerId: string | null; previousVisibility: string | null; setEmployer: boolean; setDoNotEmail: boolean; setVisibility: boolean } | null;
  disabledAt: string | null;
  /** the stored value of each attribute asked for (null when the contact has none), by attribute id */
  attributes: ReadonlyMap<string, string | null>;
}

const noAttributes: ReadonlyMap<string, string | null> = new Map();

/**
 * The lifecycle state of many contacts at once (a bulk chunk or one contact): rows the viewer may
 * see in this institution, whether each is disabled or archived, and for ids that are gone,
 * whether the audit log says they were deleted or expunged (so a repeat is a no-op, not a 404).
 * `lock` takes row locks on PostgreSQL so concurrent actions on the same contacts serialise;
 * `attributeIds` reads the stored values of the attributes the action will change with the rows.
 */
export async function loadContacts(
  db: Db,
  institutionId: string,
  viewer: Viewer,
  ids: string[],
  options: { lock?: boolean; attributeIds?: readonly string[] } = {},
): Promise<LoadedContact[]> {
  if (ids.length === 0) return [];
  const attributeIds = options.attributeIds ?? [];
  const storedColumns = attributeIds.map((_, i) => `stored_${i}`);
  // The attribute values the action will change, read with the rows (the change's "before").
  let q = db
    .selectFrom('contacts')
    .select(lifecycleColumns)
    .select((eb) =>
      attributeIds.map((attributeId, i) =>
        eb.selectFrom('contact_attribute_values as v').select('v.value_text').whereRef('v.contact_id', '=', 'contacts.id').where('v.attribute_id', '=', attributeId).as(storedColumns[i]),
      ),
    )
    .where(contactsInTenant(db, institutionId, ids))
    .where(visibleTo(viewer));
  if (options.lock) q = q.forUpdate();
  // The stored values come as extra columns of the row (stored_0…): nothing reads a row whole.
  const read = (await q.execute()) as (LifecycleRow & Record<string, unknown>)[];
  const rows = new Map<string, LifecycleRow>();
  const stored = new Map<string, ReadonlyMap<string, string | null>>();
  for (const r of read) {
    rows.set(r.id, r);
    if (attributeIds.length === 0) continue;
    const values = new Map<string, string | null>();
    for (let i = 0; i < attributeIds.length; i++) values.set(attributeIds[i], (r[storedColumns[i]] as string | null | undefined) ?? null);
    stored.set(r.id, values);
  }
  const present = [...rows.keys()];
  const disabled = new Map(
    present.length
      ? (await db.selectFrom('disabled_contacts').select(['contact_id', 'disabled_at']).where('contact_id', 'in', present).execute()).map((d) => [d.contact_id, d.disabled_at])
      : [],
  );
  const archives = new Map(
    present.length ? (await db.selectFrom('contact_archives').selectAll().where('contact_id', 'in', present).execute()).map((a) => [a.contact_id, a]) : [],
  );
  const missing = ids.filter((id) => !rows.has(id));
  const erased = new Map<string, 'deleted' | 'expunged'>();
  if (missing.length) {
    // Only this institution's chain is searched: another tenant's erased id stays a plain 404.
    const entries = await db
      .selectFrom('audit_log')
      .select(['target_id', 'action'])
      .where('chain', '=', institutionId)
      .where('target_id', 'in', missing)
      .where('action', 'in', ['contact.delete', 'contact.expunge'])
      .orderBy('seq')
      .execute();
    for (const e of entries) erased.set(e.target_id!, e.action === 'contact.expunge' ? 'expunged' : 'deleted');
  }
  return ids.map((id) => {
    const row = rows.get(id) ?? null;
    if (!row) return { id, row: null, archive: null, disabledAt: null, attributes: noAttributes, state: { exists: false, erased: erased.get(id) ?? null } };
    const a = archives.get(id);
    return {
      id,
      row,
      disabledAt: disabled.get(id) ?? null,
      attributes: stored.get(id) ?? noAttributes,
      archive: a
        ? {
            previousEmployerId: a.previous_employer_id,
            previousVisibility: a.previous_visibility,
            setEmployer: a.set_employer === 1,
            setDoNotEmail: a.set_do_not_email === 1,
            setVisibility: a.set_visibility === 1,
          }
        : null,
      state: { exists: true, disabled: disabled.has(id), approval: row.approval_status, archived: archives.has(id) },
    };
  });
}
