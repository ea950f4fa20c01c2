import type { DuplicatePolicy } from '../../db/schema.ts';
import type { ImportedFields, PreparedContact } from './prepare-row.ts';

/**
 * What a duplicate row changes on the contact it matched (pure). `skip` changes nothing;
 * `fill_empty` sets only what the contact lacks; `overwrite` replaces every value the row gives.
 * A blank cell is "not given" under every policy: an import never erases a value. The first and
 * last names are never empty, so only `overwrite` changes them; the organization that created a
 * contact never changes.
 */

export interface ContactState extends ImportedFields {
  /** attribute id → stored value */
  attributes: Map<string, { key: string; valueText: string; valueNumber: number | null }>;
}

/** A changed field, API-named ("email", "attributes.program"), with values for the sealed audit entry. */
export interface StateChange {
  field: string;
  before: unknown;
  after: unknown;
}

const empty = (v: unknown) => v === null || v === undefined;

export function applyDuplicatePolicy(policy: DuplicatePolicy, state: ContactState, row: PreparedContact): StateChange[] {
  if (policy === 'skip') return [];
  const changes: StateChange[] = [];
  const take = (given: unknown, current: unknown) => !empty(given) && given !== current && (policy === 'overwrite' || empty(current));

  if (policy === 'overwrite') {
    if (row.first_name !== state.first_name) {
      changes.push({ field: 'firstName', before: state.first_name, after: row.first_name });
      state.first_name = row.first_name;
      state.first_name_folded = row.first_name_folded;
    }
    if (row.last_name !== state.last_name) {
      changes.push({ field: 'lastName', before: state.last_name, after: row.last_name });
      state.last_name = row.last_name;
      state.last_name_folded = row.last_name_folded;
    }
  }
  if (take(row.email, state.email)) {
    changes.push({ field: 'email', before: state.email, after: row.email });
    state.email = row.email;
    state.email_normalized = row.email_normalized;
  }
  if (take(row.mobile_phone, state.mobile_phone)) {
    changes.push({ field: 'mobilePhone', before: state.mobile_phone, after: row.mobile_phone });
    state.mobile_phone = row.mobile_phone;
    state.mobile_e164 = row.mobile_e164;
  }
  if (take(row.ssn_hash_full, state.ssn_hash_full)) {
    // Only that an SSN was set is recorded: the hashes stay out of the audit log.
    changes.push({ field: 'ssn', before: state.ssn_hash_full ? 'set' : null, after: 'set' });
    state.ssn_hash_full = row.ssn_hash_full;
    state.ssn_hash_last6 = row.ssn_hash_last6;
    state.ssn_hash_last4 = row.ssn_hash_last4;
  }
  if (row.employer && row.employer.folded !== state.employer?.folded && (policy === 'overwrite' || !state.employer)) {
    changes.push({ field: 'employer', before: state.employer?.name ?? null, after: row.employer.name });
    state.employer = row.employer;
  }
  for (const { attribute, value } of row.attributes) {
    const current = state.attributes.get(attribute.id);
    if (current?.valueText === value.valueText) continue;
    if (current && policy !== 'overwrite') continue;
    changes.push({ field: `attributes.${attribute.key}`, before: current?.valueText ?? null, after: value.valueText });
    state.attributes.set(attribute.id, { key: attribute.key, valueText: value.valueText, valueNumber: value.valueNumber });
  }
  return changes;
}
