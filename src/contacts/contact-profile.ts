import type { Db } from '../context.ts';
import type { ApprovalStatus, Contact, ContactSource, OptInStatus, Visibility } from '../db/schema.ts';
import { notFound } from '../http/problem.ts';
import { attributeValueOf, type AttributeValue } from './attribute-values.ts';
import { employmentHistory, type EmploymentView } from './employers.ts';
import { visibleTo, type Viewer } from './visibility.ts';

export interface ContactProfile {
  id: string;
  organizationId: string | null;
  firstName: string;
  lastName: string;
  email: string | null;
  mobilePhone: string | null;
  mobileE164: string | null;
  /** whether an SSN is on file (only its keyed hashes are stored; it is never shown) */
  ssnOnFile: boolean;
  employer: { id: string; name: string; since: string } | null;
  formerEmployers: { id: string; name: string; startedAt: string; endedAt: string }[];
  ownerUserId: string | null;
  visibility: Visibility;
  approvalStatus: ApprovalStatus;
  source: ContactSource;
  optInStatus: OptInStatus;
  optInChangedAt: string | null;
  attributes: Record<string, AttributeValue>;
  authorizations: Record<string, { granted: boolean; updatedAt: string }>;
  createdAt: string;
  updatedAt: string;
}

/**
 * The contact if it exists in this institution and the viewer may see it; otherwise 404, the
 * same answer as for another tenant's id. `lock` takes a row lock (PostgreSQL) for a write.
 */
export async function findVisibleContact(db: Db, institutionId: string, viewer: Viewer, id: string, lock = false): Promise<Contact> {
  let q = db.selectFrom('contacts').selectAll().where('institution_id', '=', institutionId).where('id', '=', id).where(visibleTo(viewer));
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw notFound('Contact');
  return row;
}

export async function attributesOf(db: Db, contactId: string): Promise<Record<string, AttributeValue>> {
  const rows = await db
    .selectFrom('contact_attribute_values')
    .innerJoin('attribute_definitions', 'attribute_definitions.id', 'contact_attribute_values.attribute_id')
    .select(['attribute_definitions.key', 'attribute_definitions.type', 'contact_attribute_values.value_text', 'contact_attribute_values.value_number'])
    .where('contact_attribute_values.contact_id', '=', contactId)
    .orderBy('attribute_definitions.key')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.key, attributeValueOf(r.type, r.value_text, r.value_number)]));
}

export async function authorizationsOf(db: Db, contactId: string): Promise<Record<string, { granted: boolean; updatedAt: string }>> {
  const rows = await db
    .selectFrom('contact_authorizations')
    .select(['purpose', 'granted', 'updated_at'])
    .where('contact_id', '=', contactId)
    .orderBy('purpose')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.purpose, { granted: r.granted === 1, updatedAt: r.updated_at }]));
}

export interface ProfileParts {
  history: EmploymentView[];
  attributes: Record<string, AttributeValue>;
  authorizations: Record<string, { granted: boolean; updatedAt: string }>;
}

/** The API profile from a contact row and its related parts. */
export function profileFrom(row: Contact, parts: ProfileParts): ContactProfile {
  const current = parts.history.find((e) => e.endedAt === null && e.employerId === row.employer_id);
  return {
    id: row.id,
    organizationId: row.organization_id,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    mobilePhone: row.mobile_phone,
    mobileE164: row.mobile_e164,
    ssnOnFile: row.ssn_hash_full !== null,
    employer: current ? { id: current.employerId, name: current.name, since: current.startedAt } : null,
    formerEmployers: parts.history
      .filter((e) => e.endedAt !== null)
      .map((e) => ({ id: e.employerId, name: e.name, startedAt: e.startedAt, endedAt: e.endedAt! })),
    ownerUserId: row.owner_user_id,
    visibility: row.visibility,
    approvalStatus: row.approval_status,
    source: row.source,
    optInStatus: row.opt_in_status,
    optInChangedAt: row.opt_in_changed_at,
    attributes: parts.attributes,
    authorizations: parts.authorizations,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The full profile of a contact row already checked for visibility. */
export async function profileOf(db: Db, institutionId: string, row: Contact): Promise<ContactProfile> {
  const [history, attributes, authorizations] = await Promise.all([
    employmentHistory(db, institutionId, row.id),
    attributesOf(db, row.id),
    authorizationsOf(db, row.id),
  ]);
  return profileFrom(row, { history, attributes, authorizations });
}

export async function getContactProfile(db: Db, institutionId: string, viewer: Viewer, id: string): Promise<ContactProfile> {
  return profileOf(db, institutionId, await findVisibleContact(db, institutionId, viewer, id));
}
