import type { Contact } from '../../db/schema.ts';
import type { FieldError } from '../../http/problem.ts';

/**
 * Which value each field of a merged contact keeps (pure). Every field is chosen from the
 * survivor or from the other contact; without a choice, the survivor's value stays unless it is
 * empty and the other contact has one. An SSN moves as a whole (its three hashes), shown only as
 * "set", never as a value.
 */

export type MergeSide = 'survivor' | 'other';

export const scalarMergeFields = {
  firstName: ['first_name', 'first_name_folded'],
  lastName: ['last_name', 'last_name_folded'],
  email: ['email', 'email_normalized'],
  mobilePhone: ['mobile_phone', 'mobile_e164'],
  ssn: ['ssn_hash_full', 'ssn_hash_last6', 'ssn_hash_last4'],
  employerId: ['employer_id'],
  organizationId: ['organization_id'],
  ownerUserId: ['owner_user_id'],
  visibility: ['visibility'],
  approvalStatus: ['approval_status'],
  optInStatus: ['opt_in_status', 'opt_in_changed_at'],
} as const satisfies Record<string, readonly (keyof Contact)[]>;
export type ScalarMergeField = keyof typeof scalarMergeFields;

export interface AttributeValueRow {
  attributeId: string;
  valueText: string;
  valueNumber: number | null;
}

export interface MergeSideData {
  contact: Contact;
  /** attribute key → value */
  attributes: Map<string, AttributeValueRow>;
}

export interface FieldDecision {
  field: string;
  survivor: unknown;
  other: unknown;
  chosen: MergeSide;
  result: unknown;
}

export interface MergePlan {
  fields: FieldDecision[];
  /** contact columns the survivor takes from the other contact */
  columns: Partial<Contact>;
  /** attribute key → the value the survivor ends with (null: none) */
  attributes: Map<string, AttributeValueRow | null>;
  /** fields whose value changes on the survivor */
  changed: string[];
}

const shown = (field: ScalarMergeField, c: Contact): unknown => {
  if (field === 'ssn') return c.ssn_hash_full || c.ssn_hash_last6 || c.ssn_hash_last4 ? 'set' : null;
  return c[scalarMergeFields[field][0]] ?? null;
};

const isEmpty = (v: unknown) => v === null || v === undefined || v === '';

/** Validates the choices: every key must be a mergeable field or an attribute one of the contacts has. */
export function checkChoices(choices: Record<string, string>, attributeKeys: ReadonlySet<string>): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, side] of Object.entries(choices)) {
    if (side !== 'survivor' && side !== 'other') errors.push({ field: `choices.${field}`, message: 'must be "survivor" or "other"' });
    const known = field in scalarMergeFields || (field.startsWith('attributes.') && attributeKeys.has(field.slice('attributes.'.length)));
    if (!known) {
      errors.push({
        field: `choices.${field}`,
        message: `is not a field either contact has; choose among ${Object.keys(scalarMergeFields).join(', ')}${attributeKeys.size ? `, ${[...attributeKeys].map((k) => `attributes.${k}`).join(', ')}` : ''}`,
      });
    }
  }
  return errors;
}

export function planMerge(survivor: MergeSideData, other: MergeSideData, choices: Record<string, MergeSide>): MergePlan {
  const plan: MergePlan = { fields: [], columns: {}, attributes: new Map(), changed: [] };
  for (const field of Object.keys(scalarMergeFields) as ScalarMergeField[]) {
    const s = shown(field, survivor.contact);
    const o = shown(field, other.contact);
    const chosen: MergeSide = choices[field] ?? (isEmpty(s) && !isEmpty(o) ? 'other' : 'survivor');
    const from = chosen === 'survivor' ? survivor.contact : other.contact;
    plan.fields.push({ field, survivor: s, other: o, chosen, result: chosen === 'survivor' ? s : o });
    if (chosen === 'other') {
      const columns = scalarMergeFields[field];
      const differs = columns.some((column) => (survivor.contact[column] ?? null) !== (from[column] ?? null));
      if (differs) {
        for (const column of columns) (plan.columns as Record<string, unknown>)[column] = from[column] ?? null;
        plan.changed.push(field);
      }
    }
  }
  const keys = [...new Set([...survivor.attributes.keys(), ...other.attributes.keys()])].sort();
  for (const key of keys) {
    const field = `attributes.${key}`;
    const s = survivor.attributes.get(key) ?? null;
    const o = other.attributes.get(key) ?? null;
    const chosen: MergeSide = choices[field] ?? (s === null && o !== null ? 'other' : 'survivor');
    const result = chosen === 'survivor' ? s : o;
    plan.fields.push({ field, survivor: s?.valueText ?? null, other: o?.valueText ?? null, chosen, result: result?.valueText ?? null });
    plan.attributes.set(key, result);
    if ((s?.valueText ?? null) !== (result?.valueText ?? null)) plan.changed.push(field);
  }
  return plan;
}
