import type { CountryCode } from 'libphonenumber-js/max';
import { foldName, normalizeEmail as normalizeStoredEmail, parsePhone } from '../../contacts/normalize.ts';
import { keyedHash } from '../../security/server-secret.ts';

/**
 * Applicant values in the form duplicate matching compares: the same folds the contact store
 * writes (email_normalized, mobile_e164, last_name_folded, ssn_hash_*), so equal people meet.
 * Nothing here logs, and no error message repeats the value it rejects (an SSN must never
 * reach a log or a response).
 */

export type IntakeField = 'email' | 'mobilePhone' | 'lastName' | 'ssn';

export interface FieldError {
  field: IntakeField;
  message: string;
}

export function isFieldError(value: unknown): value is FieldError {
  return typeof value === 'object' && value !== null && 'field' in value && 'message' in value;
}

/** The input, or null when it is missing, empty or whitespace only: the applicant did not give it. */
export function givenValue(raw: string | null | undefined): string | null {
  return raw == null || raw.trim() === '' ? null : raw;
}

/** Trimmed and case-folded; an input that is not an email address is a field error. */
export function normalizeEmail(raw: string): { email: string } | FieldError {
  const email = normalizeStoredEmail(raw);
  return email === null ? { field: 'email', message: 'Enter a valid email address, like name@example.com.' } : { email };
}

/**
 * E.164 form of a phone number; national numbers ("06 12 34 56 78") are read in the institution's
 * default region. The parsing is contacts/normalize.ts parsePhone, the one every write uses.
 */
export function normalizeMobile(raw: string, defaultRegion: CountryCode): { e164: string } | FieldError {
  const parsed = parsePhone(raw, defaultRegion);
  if ('e164' in parsed) return parsed;
  if (parsed.error === 'extension') return { field: 'mobilePhone', message: 'Enter a mobile phone number without an extension.' };
  return {
    field: 'mobilePhone',
    message: 'Enter a valid mobile phone number, with the country code (e.g. +1 or +33) if it is not a local number.',
  };
}

/**
 * Last name folded for matching: case, accents, spacing, hyphen and apostrophe variants
 * ("  Lefèvre–D’Arcy " = "lefevre darcy"). It is the contact store's own fold, so an applicant's
 * name compares equal to last_name_folded written by any other path.
 */
export function foldLastName(raw: string): string {
  return foldName(raw);
}

const ssnFormats = /^(?:\d{3}-\d{2}-\d{4}|\d{9})$/;

/**
 * The nine digits of an SSN written 123-45-6789 or 123456789. Numbers the SSA never issues are
 * refused: area 000, 666 or 900–999, group 00, serial 0000.
 */
export function parseSsn(raw: string): { digits: string } | FieldError {
  const value = raw.trim();
  if (!ssnFormats.test(value)) {
    return { field: 'ssn', message: 'Enter the Social Security number as 9 digits: 123-45-6789 or 123456789.' };
  }
  const digits = value.replace(/-/g, '');
  const area = digits.slice(0, 3);
  const group = digits.slice(3, 5);
  const serial = digits.slice(5);
  if (area === '000' || area === '666' || area >= '900' || group === '00' || serial === '0000') {
    return { field: 'ssn', message: 'This is not a valid Social Security number. Please check it and enter it again.' };
  }
  return { digits };
}

export interface SsnHashes {
  full: string;
  last6: string;
  last4: string;
}

/**
 * The only form in which an SSN is kept: keyed hashes (HMAC-SHA256, ServerSecrets.piiHashKey)
 * of the full number, its last 6 and its last 4. Each kind has its own prefix, so a last-4 hash
 * never equals any full or last-6 hash and the columns cannot be joined against each other.
 */
export function ssnHashes(piiHashKey: Buffer, digits: string): SsnHashes {
  if (!/^\d{9}$/.test(digits)) throw new Error('ssnHashes expects the 9 digits returned by parseSsn');
  return {
    full: keyedHash(piiHashKey, `ssn-full:${digits}`),
    last6: keyedHash(piiHashKey, `ssn-last6:${digits.slice(3)}`),
    last4: keyedHash(piiHashKey, `ssn-last4:${digits.slice(5)}`),
  };
}
