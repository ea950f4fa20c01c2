import type { CountryCode } from 'libphonenumber-js/max';
import type { AttributeType } from '../../db/schema.ts';
import { foldName, tidyName } from '../../contacts/normalize.ts';
import { checkAttributeValue, type StoredValue } from '../../contacts/attribute-values.ts';
import type { ColumnMapping, ContactField } from '../rules/csv-mapping.ts';
import type { Candidate } from '../rules/match.ts';
import { isFieldError, normalizeEmail, normalizeMobile, parseSsn, ssnHashes } from '../rules/normalize.ts';

/**
 * One CSV record → the contact it describes, normalised exactly as every other intake path
 * normalises (rules/normalize.ts), or the list of what is wrong with it. Pure: no I/O, so the
 * whole validation table is unit-tested. Blank cells mean "not given"; an import never erases.
 */

export interface ImportAttribute {
  id: string;
  key: string;
  label?: string;
  type: AttributeType;
  options: string[] | null;
}

export interface PrepareContext {
  mapping: readonly ColumnMapping[];
  attributes: ReadonlyMap<string, ImportAttribute>;
  /** organizations of the institution by id and by lower-cased name */
  organizations: ReadonlyMap<string, string>;
  defaultRegion: CountryCode;
  piiHashKey: Buffer;
}

export interface RowError {
  field: string;
  message: string;
}

/** The contact's own fields an import row can give: columns of `contacts`, the employer by name. */
export interface ImportedFields {
  first_name: string;
  first_name_folded: string;
  last_name: string;
  last_name_folded: string;
  email: string | null;
  email_normalized: string | null;
  mobile_phone: string | null;
  mobile_e164: string | null;
  ssn_hash_full: string | null;
  ssn_hash_last6: string | null;
  ssn_hash_last4: string | null;
  /** the employer's name as written (tidied) and folded; resolved to an id when written */
  employer: { name: string; folded: string } | null;
}

export interface PreparedContact extends ImportedFields {
  /** from the row's organization column; null: the import's organization */
  organizationId: string | null;
  attributes: { attribute: ImportAttribute; value: StoredValue }[];
}

export type PreparedRow =
  | { row: number; kind: 'ok'; contact: PreparedContact; candidate: Candidate }
  | { row: number; kind: 'invalid'; errors: RowError[] }
  | { row: number; kind: 'blank' };

const asciiName = /^[A-Za-z ]*$/;

/** foldName, with a fast path for plain ASCII letters (the same result, without Unicode normalisation). */
export function foldNameFast(name: string): string {
  return asciiName.test(name) ? name.toLowerCase().replace(/ {2,}/g, ' ').trim() : foldName(name);
}

function nameOf(raw: string, field: 'firstName' | 'lastName', errors: RowError[]): { name: string; folded: string } | null {
  const name = asciiName.test(raw) ? raw.replace(/ {2,}/g, ' ').trim() : tidyName(raw);
  const folded = foldNameFast(name);
  if (!folded) {
    errors.push({ field, message: 'is required' });
    return null;
  }
  if (name.length > 200) {
    errors.push({ field, message: 'must be at most 200 characters' });
    return null;
  }
  return { name, folded };
}

/** Where each standard field and attribute sits in a record, worked out once per import. */
export interface ColumnPlan {
  field: Partial<Record<ContactField, number>>;
  attributes: { index: number; attribute: ImportAttribute }[];
  width: number;
}

export function planColumns(ctx: Pick<PrepareContext, 'mapping' | 'attributes'>): ColumnPlan {
  const plan: ColumnPlan = { field: {}, attributes: [], width: ctx.mapping.length };
  for (const column of ctx.mapping) {
    if (column.target === null) continue;
    if (column.target.startsWith('attr:')) {
      const attribute = ctx.attributes.get(column.target.slice('attr:'.length));
      if (attribute) plan.attributes.push({ index: column.index, attribute });
    } else {
      plan.field[column.target as ContactField] = column.index;
    }
  }
  return plan;
}

export function prepareRow(ctx: PrepareContext, plan: ColumnPlan, row: number, cells: readonly string[]): PreparedRow {
  const cell = (index: number | undefined): string | null => {
    if (index === undefined) return null;
    const value = cells[index];
    return value === undefined || value.trim() === '' ? null : value;
  };
  if (cells.every((c) => c.trim() === '')) return { row, kind: 'blank' };

  const errors: RowError[] = [];
  if (cells.length > plan.width && cells.slice(plan.width).some((c) => c.trim() !== '')) {
    errors.push({ field: 'row', message: `has ${cells.length} values but the header has ${plan.width} columns; extra values would be lost` });
  }
  const first = nameOf(cell(plan.field.firstName) ?? '', 'firstName', errors);
  const last = nameOf(cell(plan.field.lastName) ?? '', 'lastName', errors);

  const candidate: Candidate = {};
  let email: string | null = null;
  const emailRaw = cell(plan.field.email);
  if (emailRaw !== null) {
    const checked = normalizeEmail(emailRaw);
    if (isFieldError(checked)) errors.push(checked);
    else {
      email = emailRaw.trim();
      candidate.emailNormalized = checked.email;
    }
  }
  let mobile: string | null = null;
  const mobileRaw = cell(plan.field.mobilePhone);
  if (mobileRaw !== null) {
    const checked = normalizeMobile(mobileRaw, ctx.defaultRegion);
    if (isFieldError(checked)) errors.push(checked);
    else {
      mobile = mobileRaw.trim();
      candidate.mobileE164 = checked.e164;
    }
  }
  const ssnRaw = cell(plan.field.ssn);
  if (ssnRaw !== null) {
    const checked = parseSsn(ssnRaw);
    if (isFieldError(checked)) errors.push(checked);
    else {
      const hashes = ssnHashes(ctx.piiHashKey, checked.digits);
      candidate.ssnHashFull = hashes.full;
      candidate.ssnHashLast6 = hashes.last6;
      candidate.ssnHashLast4 = hashes.last4;
    }
  }
  let employer: PreparedContact['employer'] = null;
  const employerRaw = cell(plan.field.employer);
  if (employerRaw !== null) {
    const name = tidyName(employerRaw);
    if (name.length > 200) errors.push({ field: 'employer', message: 'must be at most 200 characters' });
    else employer = { name, folded: foldName(name) };
  }
  let organizationId: string | null = null;
  const organizationRaw = cell(plan.field.organization);
  if (organizationRaw !== null) {
    const wanted = organizationRaw.trim();
    const found = ctx.organizations.get(wanted) ?? ctx.organizations.get(wanted.toLowerCase());
    if (found) organizationId = found;
    else errors.push({ field: 'organization', message: 'is not an organization of this institution (give its name or id)' });
  }
  const attributes: PreparedContact['attributes'] = [];
  for (const { index, attribute } of plan.attributes) {
    const raw = cell(index);
    if (raw === null) continue;
    const checked = checkAttributeValue(attribute, raw);
    if (checked.ok) attributes.push({ attribute, value: checked.value });
    else errors.push({ field: `attributes.${attribute.key}`, message: checked.message });
  }

  if (errors.length || !first || !last) return { row, kind: 'invalid', errors };
  candidate.lastNameFolded = last.folded;
  return {
    row,
    kind: 'ok',
    candidate,
    contact: {
      first_name: first.name,
      first_name_folded: first.folded,
      last_name: last.name,
      last_name_folded: last.folded,
      email,
      email_normalized: candidate.emailNormalized ?? null,
      mobile_phone: mobile,
      mobile_e164: candidate.mobileE164 ?? null,
      ssn_hash_full: candidate.ssnHashFull ?? null,
      ssn_hash_last6: candidate.ssnHashLast6 ?? null,
      ssn_hash_last4: candidate.ssnHashLast4 ?? null,
      employer,
      organizationId,
      attributes,
    },
  };
}
