import type { ApprovalStatus, Contact, ContactSource, OptInStatus, Visibility } from '../db/schema.ts';
import type { CountryCode } from 'libphonenumber-js/max';
import type { FieldError } from '../http/problem.ts';
import { isFieldError, parseSsn, ssnHashes, type SsnHashes } from '../intake/rules/normalize.ts';
import { foldName, normalizeEmail, parsePhone, tidyName } from './normalize.ts';

/** A contact's writable fields as the API names them (already shape-checked by the route schema). */
export interface ContactInput {
  firstName?: string;
  lastName?: string;
  email?: string | null;
  mobilePhone?: string | null;
  /** US Social Security number; stored only as keyed hashes (full, last 6, last 4), null removes it */
  ssn?: string | null;
  /** an SSN already hashed (a verified application merging): internal, never from a request body */
  ssnHashes?: SsnHashes | null;
  employerId?: string | null;
  organizationId?: string;
  ownerUserId?: string | null;
  visibility?: Visibility;
  approvalStatus?: ApprovalStatus;
  source?: ContactSource;
  optInStatus?: OptInStatus;
  /** key → value; null removes the value */
  attributes?: Record<string, unknown>;
  /** purpose → granted */
  authorizations?: Record<string, boolean>;
}

/** The scalar fields a write can change, API name → column. Derived columns follow their source. */
export const scalarFields = {
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  mobilePhone: 'mobile_phone',
  employerId: 'employer_id',
  organizationId: 'organization_id',
  ownerUserId: 'owner_user_id',
  visibility: 'visibility',
  approvalStatus: 'approval_status',
  optInStatus: 'opt_in_status',
} as const satisfies Record<string, keyof Contact>;
export type ScalarField = keyof typeof scalarFields;

export type ContactColumns = Partial<
  Pick<
    Contact,
    | 'first_name'
    | 'first_name_folded'
    | 'last_name'
    | 'last_name_folded'
    | 'email'
    | 'email_normalized'
    | 'mobile_phone'
    | 'mobile_e164'
    | 'ssn_hash_full'
    | 'ssn_hash_last6'
    | 'ssn_hash_last4'
    | 'employer_id'
    | 'organization_id'
    | 'owner_user_id'
    | 'visibility'
    | 'approval_status'
    | 'opt_in_status'
  >
>;

export interface NormalizeOptions {
  /** region national phone numbers are read in (the institution's intake setting) */
  defaultRegion?: CountryCode;
  /** ServerSecrets.piiHashKey; needed when the input carries an SSN */
  piiHashKey?: Buffer;
}

/**
 * Normalises the scalar fields present in the input into column values (names tidied and
 * folded, email lower-cased and checked, phone kept as typed plus its E.164 form, SSN turned
 * into its keyed hashes and dropped). Reference ids are checked against the database by the caller.
 */
export function normalizeContactFields(input: ContactInput, options: NormalizeOptions = {}): { columns: ContactColumns; errors: FieldError[] } {
  const columns: ContactColumns = {};
  const errors: FieldError[] = [];
  for (const field of ['firstName', 'lastName'] as const) {
    const raw = input[field];
    if (raw === undefined) continue;
    const name = tidyName(raw);
    const folded = foldName(name);
    if (!folded) errors.push({ field, message: 'must not be empty' });
    else if (name.length > 200) errors.push({ field, message: 'must be at most 200 characters' });
    else if (field === 'firstName') Object.assign(columns, { first_name: name, first_name_folded: folded });
    else Object.assign(columns, { last_name: name, last_name_folded: folded });
  }
  if (input.email !== undefined) {
    const email = input.email?.trim() || null;
    const normalized = email === null ? null : normalizeEmail(email);
    if (email !== null && normalized === null) errors.push({ field: 'email', message: 'must be an email address like name@example.org' });
    else Object.assign(columns, { email, email_normalized: normalized });
  }
  if (input.mobilePhone !== undefined) {
    const phone = input.mobilePhone?.trim() || null;
    const parsed = phone === null ? null : parsePhone(phone, options.defaultRegion);
    if (parsed && 'error' in parsed) {
      errors.push({
        field: 'mobilePhone',
        message:
          parsed.error === 'extension'
            ? 'must be a phone number without an extension'
            : `must be a valid phone number, with its country code (such as +41 79 123 45 67) unless it is a ${options.defaultRegion ?? 'US'} number`,
      });
    } else Object.assign(columns, { mobile_phone: phone, mobile_e164: parsed?.e164 ?? null });
  }
  if (input.ssn !== undefined) {
    const raw = input.ssn?.trim() || null;
    if (raw === null) Object.assign(columns, { ssn_hash_full: null, ssn_hash_last6: null, ssn_hash_last4: null });
    else {
      // The message never repeats the value: an SSN must not reach a response or a log.
      const parsed = parseSsn(raw);
      if (isFieldError(parsed)) errors.push({ field: 'ssn', message: parsed.message });
      else {
        if (!options.piiHashKey) throw new Error('normalizeContactFields needs piiHashKey to hash an SSN');
        const hashes = ssnHashes(options.piiHashKey, parsed.digits);
        Object.assign(columns, { ssn_hash_full: hashes.full, ssn_hash_last6: hashes.last6, ssn_hash_last4: hashes.last4 });
      }
    }
  }
  if (input.ssnHashes !== undefined && input.ssn === undefined) {
    const h = input.ssnHashes;
    Object.assign(columns, { ssn_hash_full: h?.full ?? null, ssn_hash_last6: h?.last6 ?? null, ssn_hash_last4: h?.last4 ?? null });
  }
  if (input.employerId !== undefined) columns.employer_id = input.employerId;
  if (input.organizationId !== undefined) columns.organization_id = input.organizationId;
  if (input.ownerUserId !== undefined) columns.owner_user_id = input.ownerUserId;
  if (input.visibility !== undefined) columns.visibility = input.visibility;
  if (input.approvalStatus !== undefined) columns.approval_status = input.approvalStatus;
  if (input.optInStatus !== undefined) columns.opt_in_status = input.optInStatus;
  return { columns, errors };
}

/**
 * updatedAt is the concurrency token (If-Match), so every write moves it forward, even twice in
 * one millisecond. `now` is an ISO string in UTC, as stored values are: when the stored one sorts
 * first it is earlier, and `now` is the answer without parsing either (a bulk chunk asks a thousand
 * times).
 */
export function nextUpdatedAt(previous: string, now: string): string {
  if (previous < now && previous.length === now.length && previous.endsWith('Z')) return now;
  return new Date(Math.max(Date.parse(now), Date.parse(previous) + 1)).toISOString();
}

export interface FieldChange {
  /** API field name: "email", "attributes.program", "authorizations.newsletter" */
  field: string;
  before: unknown;
  after: unknown;
}

/** The scalar fields whose stored value differs, in API names. */
export function diffScalars(current: Contact, next: ContactColumns): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [field, column] of Object.entries(scalarFields) as [ScalarField, keyof ContactColumns][]) {
    if (!(column in next)) continue;
    const after = next[column] ?? null;
    const before = current[column] ?? null;
    if (before !== after) changes.push({ field, before, after });
  }
  if ('ssn_hash_full' in next && (next.ssn_hash_full ?? null) !== current.ssn_hash_full) {
    // Audit and activity say that the SSN changed, never what it is (not even as a hash).
    const had = current.ssn_hash_full !== null;
    changes.push({ field: 'ssn', before: had ? SSN_ON_FILE : null, after: next.ssn_hash_full ? (had ? SSN_REPLACED : SSN_ON_FILE) : null });
  }
  return changes;
}

export const SSN_ON_FILE = '[on file]';
export const SSN_REPLACED = '[replaced]';

/** Audit payloads: only the changed fields, before and after, nested the way the API names them. */
export function auditPayload(changes: FieldChange[]): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const c of changes) {
    setPath(before, c.field, c.before);
    setPath(after, c.field, c.after);
  }
  return { before, after };
}

function setPath(target: Record<string, unknown>, field: string, value: unknown): void {
  const dot = field.indexOf('.');
  if (dot < 0) {
    target[field] = value;
    return;
  }
  const group = field.slice(0, dot);
  const inner = (target[group] ??= {}) as Record<string, unknown>;
  inner[field.slice(dot + 1)] = value;
}

export interface ActivityDraft {
  type: string;
  data: Record<string, unknown>;
}

/**
 * The activity events for one write. `contact.updated` names every changed field; the specific
 * events carry what retention and workflows decide on (seed 004: a criterion, i.e. a custom
 * attribute, changed; an authorization changed while at least one is still granted). Data holds ids, enum values and
 * field names, never personal values.
 */
export function activityForChanges(changes: FieldChange[], anyAuthorizationGranted: boolean): ActivityDraft[] {
  if (changes.length === 0) return [];
  const events: ActivityDraft[] = [{ type: 'contact.updated', data: { fields: changes.map((c) => c.field) } }];
  const byField = new Map(changes.map((c) => [c.field, c]));
  const employer = byField.get('employerId');
  if (employer) events.push({ type: 'contact.employer_changed', data: { fromEmployerId: employer.before, toEmployerId: employer.after } });
  const visibility = byField.get('visibility');
  if (visibility) events.push({ type: 'contact.visibility_changed', data: { from: visibility.before, to: visibility.after } });
  const approval = byField.get('approvalStatus');
  if (approval) events.push({ type: 'contact.approval_changed', data: { from: approval.before, to: approval.after } });
  const optIn = byField.get('optInStatus');
  if (optIn) events.push({ type: 'consent.opt_in_changed', data: { from: optIn.before, to: optIn.after } });
  const criteria = changes.filter((c) => c.field.startsWith('attributes.')).map((c) => c.field.slice('attributes.'.length));
  if (criteria.length) events.push({ type: 'contact.criterion_changed', data: { attributes: criteria } });
  const authorizations = changes.filter((c) => c.field.startsWith('authorizations.'));
  if (authorizations.length) {
    events.push({
      type: 'consent.authorization_changed',
      data: {
        changes: Object.fromEntries(authorizations.map((c) => [c.field.slice('authorizations.'.length), c.after])),
        anyGranted: anyAuthorizationGranted,
      },
    });
  }
  return events;
}
