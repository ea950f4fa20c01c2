import type { Contact } from '../db/schema.ts';
import type { ContactInput } from '../contacts/contact-fields.ts';
import type { ContactProfile } from '../contacts/contact-profile.ts';

/**
 * What a merge into an existing profile writes: `fill_empty` keeps every value the profile has and
 * only fills those it lacks; `overwrite` takes every value the newcomer gives. Neither ever clears
 * a value: a field the newcomer left blank keeps what the profile holds.
 */
export type FillPolicy = 'fill_empty' | 'overwrite';

const scalarColumns = {
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  mobilePhone: 'mobile_phone',
  employerId: 'employer_id',
  ownerUserId: 'owner_user_id',
  visibility: 'visibility',
  approvalStatus: 'approval_status',
  optInStatus: 'opt_in_status',
} as const satisfies Partial<Record<keyof ContactInput, keyof Contact>>;

const isBlank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

export function fieldsToApply(current: Contact, profile: Pick<ContactProfile, 'attributes' | 'authorizations'> | null, incoming: ContactInput, policy: FillPolicy): ContactInput {
  const take = (existing: unknown) => policy === 'overwrite' || isBlank(existing);
  const out: ContactInput = {};
  for (const [field, column] of Object.entries(scalarColumns) as [keyof typeof scalarColumns, keyof Contact][]) {
    const value = incoming[field];
    if (isBlank(value) || !take(current[column])) continue;
    (out as Record<string, unknown>)[field] = value;
  }
  if (!isBlank(incoming.ssn) && take(current.ssn_hash_full)) out.ssn = incoming.ssn;
  if (incoming.ssnHashes && incoming.ssn === undefined && take(current.ssn_hash_full)) out.ssnHashes = incoming.ssnHashes;
  if (incoming.attributes) {
    const attributes = Object.fromEntries(
      Object.entries(incoming.attributes).filter(([key, value]) => !isBlank(value) && take(profile?.attributes[key])),
    );
    if (Object.keys(attributes).length) out.attributes = attributes;
  }
  if (incoming.authorizations) {
    const authorizations = Object.fromEntries(
      Object.entries(incoming.authorizations).filter(([purpose]) => take(profile?.authorizations[purpose])),
    );
    if (Object.keys(authorizations).length) out.authorizations = authorizations;
  }
  return out;
}
