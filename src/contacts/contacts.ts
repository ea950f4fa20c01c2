import type { AppContext, Db } from '../context.ts';
import type { Contact } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { recordActivity } from '../activity/events.ts';
import { invalidFields, Problem, type FieldError } from '../http/problem.ts';
import { checkContactAttributes, definitionsByKey, type CheckedAttributeValue } from './attributes.ts';
import {
  activityForChanges,
  auditPayload,
  diffScalars,
  nextUpdatedAt,
  normalizeContactFields,
  SSN_ON_FILE,
  type ContactColumns,
  type ContactInput,
  type FieldChange,
} from './contact-fields.ts';
import { findVisibleContact, profileFrom, profileOf, type ContactProfile } from './contact-profile.ts';
import { attributeValueOf } from './attribute-values.ts';
import { moveEmployment } from './employers.ts';
import type { Viewer } from './visibility.ts';
import { readIntakeSettings } from '../intake/settings.ts';
import type { CountryCode } from 'libphonenumber-js/max';
import { refuseFrozenEdit } from '../lifecycle/freeze.ts';
import { insertRow } from '../db/compiled-once.ts';

/** Who writes: what the contact service needs from a signed-in user, an API token or a job. */
export interface Caller {
  viewer: Viewer;
  actor: Actor;
  /** the caller's own organization: where contacts they create are recorded as coming from */
  organizationId: string | null;
  viaToken: boolean;
}

type CheckedAttributes = Map<string, CheckedAttributeValue>;

interface PreparedWrite {
  columns: ContactColumns;
  attributes: CheckedAttributes;
  /** the name of the employer the write sets, if any */
  employerName: string | null;
}

/**
 * Normalises and checks a write against the store (ids must name records of this institution;
 * attribute values must fit their definitions); throws 422 listing every bad field, before
 * anything is written. `ownOrganizationId` is the caller's organization, known to be valid.
 */
async function prepareWrite(
  ctx: AppContext,
  trx: Db,
  institutionId: string,
  input: ContactInput,
  ownOrganizationId: string | null = null,
  knownRegion?: CountryCode,
): Promise<PreparedWrite> {
  // National phone numbers are read in the institution's region (intake settings).
  const defaultRegion = input.mobilePhone ? (knownRegion ?? (await readIntakeSettings(trx, institutionId)).defaultRegion) : undefined;
  const { columns, errors } = normalizeContactFields(input, { defaultRegion, piiHashKey: ctx.secrets.piiHashKey });
  let employerName: string | null = null;
  if (columns.employer_id) {
    const found = await trx.selectFrom('employers').select('name').where('institution_id', '=', institutionId).where('id', '=', columns.employer_id).executeTakeFirst();
    if (found) employerName = found.name;
    else errors.push({ field: 'employerId', message: 'is not an employer of this institution' });
  }
  if (columns.organization_id && columns.organization_id !== ownOrganizationId) {
    const found = await trx
      .selectFrom('organizations')
      .select('id')
      .where('institution_id', '=', institutionId)
      .where('id', '=', columns.organization_id)
      .executeTakeFirst();
    if (!found) errors.push({ field: 'organizationId', message: 'is not an organization of this institution' });
  }
  if (columns.owner_user_id) {
    const found = await trx.selectFrom('users').select('id').where('institution_id', '=', institutionId).where('id', '=', columns.owner_user_id).executeTakeFirst();
    if (!found) errors.push({ field: 'ownerUserId', message: 'is not a user of this institution' });
  }
  const attributeInput = input.attributes ?? {};
  const definitions = await definitionsByKey(trx, institutionId, Object.keys(attributeInput));
  const attributes = checkContactAttributes(attributeInput, definitions);
  errors.push(...attributes.errors);
  if (errors.length) throw invalidFields(errors, `The contact was not saved: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`);
  return { columns, attributes: attributes.values, employerName };
}

/** Writes attribute values that differ from the stored ones; returns the changes. */
async function applyAttributes(trx: Db, institutionId: string, contactId: string, attributes: CheckedAttributes, isNew = false): Promise<FieldChange[]> {
  if (attributes.size === 0) return [];
  const ids = [...attributes.values()].map((a) => a.definition.id);
  const stored = isNew
    ? []
    : await trx
        .selectFrom('contact_attribute_values')
        .select(['attribute_id', 'value_text'])
        .where('contact_id', '=', contactId)
        .where('attribute_id', 'in', ids)
        .execute();
  const current = new Map(stored.map((s) => [s.attribute_id, s.value_text]));
  const changes: FieldChange[] = [];
  for (const [key, { definition, stored: next }] of attributes) {
    const before = current.get(definition.id) ?? null;
    const after = next?.valueText ?? null;
    if (before === after) continue;
    changes.push({ field: `attributes.${key}`, before, after });
    if (next === null) {
      await trx.deleteFrom('contact_attribute_values').where('contact_id', '=', contactId).where('attribute_id', '=', definition.id).execute();
    } else {
      await trx
        .insertInto('contact_attribute_values')
        .values({ contact_id: contactId, attribute_id: definition.id, institution_id: institutionId, value_text: next.valueText, value_number: next.valueNumber })
        .onConflict((oc) => oc.columns(['contact_id', 'attribute_id']).doUpdateSet({ value_text: next.valueText, value_number: next.valueNumber }))
        .execute();
    }
  }
  return changes;
}

/** Writes authorizations whose granted flag differs; each changed purpose gets the write's timestamp. */
async function applyAuthorizations(
  trx: Db,
  institutionId: string,
  contactId: string,
  wanted: Record<string, boolean> | undefined,
  now: string,
  isNew = false,
): Promise<{ changes: FieldChange[]; anyGranted: boolean }> {
  const stored = isNew ? [] : await trx.selectFrom('contact_authorizations').select(['purpose', 'granted']).where('contact_id', '=', contactId).execute();
  const state = new Map(stored.map((s) => [s.purpose, s.granted === 1]));
  const changes: FieldChange[] = [];
  for (const [purpose, granted] of Object.entries(wanted ?? {})) {
    const before = state.get(purpose) ?? null;
    if (before === granted) continue;
    changes.push({ field: `authorizations.${purpose}`, before, after: granted });
    state.set(purpose, granted);
    const flag = granted ? 1 : 0;
    await trx
      .insertInto('contact_authorizations')
      .values({ contact_id: contactId, institution_id: institutionId, purpose, granted: flag, updated_at: now })
      .onConflict((oc) => oc.columns(['contact_id', 'purpose']).doUpdateSet({ granted: flag, updated_at: now }))
      .execute();
  }
  return { changes, anyGranted: [...state.values()].some(Boolean) };
}

async function record(
  ctx: AppContext,
  trx: Db,
  contact: Pick<Contact, 'id' | 'institution_id' | 'organization_id'>,
  caller: Caller,
  action: string,
  audit: { before?: unknown; after: unknown; fields: string[]; meta?: Record<string, unknown> },
  events: { type: string; data: Record<string, unknown> }[],
  now: string,
): Promise<void> {
  await recordAudit(ctx, trx, {
    institutionId: contact.institution_id,
    actor: caller.actor,
    action,
    target: { type: 'contact', id: contact.id },
    subjectId: contact.id,
    newSubject: action === 'contact.create',
    before: audit.before,
    after: audit.after,
    meta: { fields: audit.fields, ...audit.meta },
  });
  await recordActivity(
    trx,
    events.map((e) => ({
      institutionId: contact.institution_id,
      contactId: contact.id,
      organizationId: contact.organization_id,
      actorUserId: caller.actor.userId,
      type: e.type,
      occurredAt: now,
      data: e.data,
    })),
  );
}

/** Creates a contact with its employment, attributes and consent, audited, in one transaction. */
export async function createContact(ctx: AppContext, institutionId: string, caller: Caller, input: ContactInput): Promise<ContactProfile> {
  return ctx.db.transaction().execute((trx) => createContactIn(ctx, trx, institutionId, caller, input));
}

/**
 * createContact in the caller's transaction (intake creates a contact and its application
 * together); `defaultRegion` saves re-reading the institution's settings when the caller has them.
 */
export async function createContactIn(
  ctx: AppContext,
  trx: Db,
  institutionId: string,
  caller: Caller,
  input: ContactInput,
  opts: { defaultRegion?: CountryCode } = {},
): Promise<ContactProfile> {
  if (input.firstName === undefined || input.lastName === undefined) {
    throw invalidFields([
      ...(input.firstName === undefined ? [{ field: 'firstName', message: 'is required' }] : []),
      ...(input.lastName === undefined ? [{ field: 'lastName', message: 'is required' }] : []),
    ]);
  }
  const now = ctx.clock.now();
  const at = now.toISOString();
  const source = input.source ?? (caller.viaToken ? 'api' : 'manual');
  // People who sign themselves up or apply wait for staff approval; staff-entered contacts do not.
  const defaultApproval = source === 'self_signup' || source === 'application' ? 'pending' : 'approved';
  const { columns, attributes, employerName } = await prepareWrite(
    ctx,
    trx,
    institutionId,
    { organizationId: caller.organizationId ?? undefined, ...input },
    caller.organizationId,
    opts.defaultRegion,
  );
  const row: Contact = {
    // The directory relies on id order being creation order (schema.ts).
    id: newId(now.getTime()),
    institution_id: institutionId,
    organization_id: columns.organization_id ?? null,
    first_name: columns.first_name!,
    last_name: columns.last_name!,
    first_name_folded: columns.first_name_folded!,
    last_name_folded: columns.last_name_folded!,
    email: columns.email ?? null,
    email_normalized: columns.email_normalized ?? null,
    mobile_phone: columns.mobile_phone ?? null,
    mobile_e164: columns.mobile_e164 ?? null,
    ssn_hash_full: columns.ssn_hash_full ?? null,
    ssn_hash_last6: columns.ssn_hash_last6 ?? null,
    ssn_hash_last4: columns.ssn_hash_last4 ?? null,
    employer_id: columns.employer_id ?? null,
    owner_user_id: columns.owner_user_id ?? null,
    visibility: columns.visibility ?? 'everyone',
    approval_status: columns.approval_status ?? defaultApproval,
    source,
    opt_in_status: columns.opt_in_status ?? 'unknown',
    opt_in_changed_at: columns.opt_in_status && columns.opt_in_status !== 'unknown' ? at : null,
    created_at: at,
    updated_at: at,
  };
  await insertRow(trx, 'contacts', row);
  if (row.employer_id) await moveEmployment(trx, institutionId, row.id, row.employer_id, at);
  const attributeChanges = await applyAttributes(trx, institutionId, row.id, attributes, true);
  const consent = await applyAuthorizations(trx, institutionId, row.id, input.authorizations, at, true);
  // Everything is known: the profile is assembled rather than read back.
  const profile = profileFrom(row, {
    history: row.employer_id ? [{ employerId: row.employer_id, name: employerName!, startedAt: at, endedAt: null }] : [],
    attributes: Object.fromEntries(
      [...attributes.entries()]
        .filter(([, a]) => a.stored !== null)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, a]) => [key, attributeValueOf(a.definition.type, a.stored!.valueText, a.stored!.valueNumber)]),
    ),
    authorizations: Object.fromEntries(
      Object.entries(input.authorizations ?? {})
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([purpose, granted]) => [purpose, { granted, updatedAt: at }]),
    ),
  });
  const fields = Object.keys(input).filter((k) => input[k as keyof ContactInput] !== undefined);
  await record(
    ctx,
    trx,
    row,
    caller,
    'contact.create',
    { after: snapshotForAudit(profile), fields },
    [
      {
        type: 'contact.created',
        data: {
          source,
          attributes: attributeChanges.map((c) => c.field.slice('attributes.'.length)),
          authorizations: consent.changes.map((c) => c.field.slice('authorizations.'.length)),
          anyGranted: consent.anyGranted,
        },
      },
    ],
    at,
  );
  return profile;
}

/** What the audit log keeps of a new contact (sealed with the contact's key). */
function snapshotForAudit(p: ContactProfile): Record<string, unknown> {
  return {
    firstName: p.firstName,
    lastName: p.lastName,
    email: p.email,
    mobilePhone: p.mobilePhone,
    ssn: p.ssnOnFile ? SSN_ON_FILE : null,
    employerId: p.employer?.id ?? null,
    organizationId: p.organizationId,
    ownerUserId: p.ownerUserId,
    visibility: p.visibility,
    approvalStatus: p.approvalStatus,
    source: p.source,
    optInStatus: p.optInStatus,
    attributes: p.attributes,
    authorizations: Object.fromEntries(Object.entries(p.authorizations).map(([k, v]) => [k, v.granted])),
  };
}

/** `If-Match` carries the updatedAt the client last read (bare or as the quoted ETag). */
export function etagOf(updatedAt: string): string {
  return `"${updatedAt}"`;
}

function checkPrecondition(ifMatch: string | undefined, current: Contact): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
  if (tags.includes('*') || tags.includes(current.updated_at)) return;
  throw new Problem(412, 'The contact changed since you read it; reload it and apply your change again.', [
    { field: 'headers.if-match', message: `does not match the current version ${etagOf(current.updated_at)}` },
  ]);
}

export interface UpdateOptions {
  ifMatch?: string;
  /** audit action: contact.update for profile edits, contact.consent for the consent endpoint */
  action?: string;
  /** extra audit meta (ids, never personal values), e.g. the application a merge came from */
  auditMeta?: Record<string, unknown>;
}

/**
 * Applies a partial change to a contact the caller may see (404 otherwise): only fields that
 * really change are written, audited (before/after of those fields) and turned into activity.
 */
export async function updateContact(
  ctx: AppContext,
  institutionId: string,
  caller: Caller,
  contactId: string,
  input: ContactInput,
  options: UpdateOptions = {},
): Promise<ContactProfile> {
  return ctx.db.transaction().execute((trx) => updateContactIn(ctx, trx, institutionId, caller, contactId, input, options));
}

/** updateContact in the caller's transaction (a verified application merges with its verification). */
export async function updateContactIn(
  ctx: AppContext,
  trx: Db,
  institutionId: string,
  caller: Caller,
  contactId: string,
  input: ContactInput,
  options: UpdateOptions = {},
): Promise<ContactProfile> {
  const now = ctx.clock.now();
  const current = await findVisibleContact(trx, institutionId, caller.viewer, contactId, ctx.store.kind === 'postgres');
  checkPrecondition(options.ifMatch, current);
  await refuseFrozenEdit(trx, current, Object.keys(input).filter((k) => input[k as keyof ContactInput] !== undefined));
  const { columns, attributes } = await prepareWrite(ctx, trx, institutionId, input);
  const scalarChanges = diffScalars(current, columns);
  const at = nextUpdatedAt(current.updated_at, now.toISOString());

  const employerChange = scalarChanges.find((c) => c.field === 'employerId');
  if (employerChange) await moveEmployment(trx, institutionId, contactId, (employerChange.after as string | null) ?? null, at);
  const attributeChanges = await applyAttributes(trx, institutionId, contactId, attributes);
  const consent = await applyAuthorizations(trx, institutionId, contactId, input.authorizations, at);
  const changes = [...scalarChanges, ...attributeChanges, ...consent.changes];
  if (changes.length === 0) return profileOf(trx, institutionId, current);

  const set: ContactColumns & { updated_at: string; opt_in_changed_at?: string } = { ...columns, updated_at: at };
  if (scalarChanges.some((c) => c.field === 'optInStatus')) set.opt_in_changed_at = at;
  await trx.updateTable('contacts').set(set).where('id', '=', contactId).execute();
  const updated = { ...current, ...set };

  await record(
    ctx,
    trx,
    updated,
    caller,
    options.action ?? 'contact.update',
    { ...auditPayload(changes), fields: changes.map((c) => c.field), meta: options.auditMeta },
    activityForChanges(changes, consent.anyGranted),
    at,
  );
  return profileOf(trx, institutionId, updated);
}
