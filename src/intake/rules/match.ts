import type { DuplicateRule } from './duplicate-rule.ts';

/**
 * Duplicate matching (seed 002) as a pure function. The store runs candidateLookups (a few
 * equality look-ups on indexed columns), then keeps the candidates for which isDuplicate holds.
 *
 * Readings of the seed's SSN sentences:
 * - Full SSN "takes priority": when the applicant and the existing profile both have a full SSN,
 *   it alone decides (equal: duplicate whatever the rest; different: not a duplicate whatever the
 *   rest). When either side has none, the other data points decide. For a missing SSN on the
 *   existing profile the seed says so; for a missing SSN on the applicant we read it the same way,
 *   because the seed shows a "Full Stop" message for "a Talent exists in the system, but no SSN is
 *   provided", so a match must still be found without one.
 * - Last 6 / Last 4 "add another parameter": an AND condition when both sides have it; ignored
 *   when the existing profile has none (seed) or the applicant gave none (same reading as above).
 * - An identifier or last name counts as matching only when both sides have it and the values are
 *   equal: an applicant without an email is never a duplicate "by email".
 * Reasons name data points, never values: they may reach logs.
 */

/** The applicant's normalised values (normalize.ts); absent or null means not given. */
export interface Candidate {
  emailNormalized?: string | null;
  mobileE164?: string | null;
  lastNameFolded?: string | null;
  ssnHashFull?: string | null;
  ssnHashLast6?: string | null;
  ssnHashLast4?: string | null;
}

/** The same values from a stored contact (contacts columns of the same names). */
export interface ExistingProfile {
  emailNormalized: string | null;
  mobileE164: string | null;
  lastNameFolded: string | null;
  ssnHashFull: string | null;
  ssnHashLast6: string | null;
  ssnHashLast4: string | null;
}

export interface MatchResult {
  duplicate: boolean;
  reason: string;
}

type Comparison = 'equal' | 'different' | 'missing';

function compare(a: string | null | undefined, b: string | null | undefined): Comparison {
  if (!a || !b) return 'missing';
  return a === b ? 'equal' : 'different';
}

function identifierMatch(rule: DuplicateRule, applicant: Candidate, existing: ExistingProfile): MatchResult {
  const email = compare(applicant.emailNormalized, existing.emailNormalized) === 'equal';
  const mobile = compare(applicant.mobileE164, existing.mobileE164) === 'equal';
  switch (rule.identifier) {
    case 'email':
      return { duplicate: email, reason: email ? 'email matches' : 'email does not match' };
    case 'mobile':
      return { duplicate: mobile, reason: mobile ? 'mobile phone matches' : 'mobile phone does not match' };
    case 'email_or_mobile':
      if (email && mobile) return { duplicate: true, reason: 'email and mobile phone match' };
      if (email) return { duplicate: true, reason: 'email matches' };
      if (mobile) return { duplicate: true, reason: 'mobile phone matches' };
      return { duplicate: false, reason: 'neither email nor mobile phone matches' };
  }
}

/** Identifier AND (when the rule says so) last name: the "other data points". */
function otherPointsMatch(rule: DuplicateRule, applicant: Candidate, existing: ExistingProfile): MatchResult {
  const identifier = identifierMatch(rule, applicant, existing);
  if (!identifier.duplicate || !rule.lastName) return identifier;
  if (compare(applicant.lastNameFolded, existing.lastNameFolded) !== 'equal') {
    return { duplicate: false, reason: `${identifier.reason} but last name does not match` };
  }
  return { duplicate: true, reason: `${identifier.reason} and last name matches` };
}

export function isDuplicate(rule: DuplicateRule, applicant: Candidate, existing: ExistingProfile): MatchResult {
  if (rule.ssn === 'full') {
    const ssn = compare(applicant.ssnHashFull, existing.ssnHashFull);
    if (ssn === 'equal') return { duplicate: true, reason: 'full SSN matches (takes priority)' };
    if (ssn === 'different') return { duplicate: false, reason: 'full SSN differs (takes priority)' };
    const other = otherPointsMatch(rule, applicant, existing);
    return { ...other, reason: `${other.reason}; SSN not on both, not compared` };
  }

  const other = otherPointsMatch(rule, applicant, existing);
  if (rule.ssn === 'none' || !other.duplicate) return other;

  const label = rule.ssn === 'last6' ? 'last 6 of SSN' : 'last 4 of SSN';
  const ssn =
    rule.ssn === 'last6'
      ? compare(applicant.ssnHashLast6, existing.ssnHashLast6)
      : compare(applicant.ssnHashLast4, existing.ssnHashLast4);
  if (ssn === 'different') return { duplicate: false, reason: `${other.reason} but ${label} does not match` };
  if (ssn === 'equal') return { duplicate: true, reason: `${other.reason} and ${label} matches` };
  return { duplicate: true, reason: `${other.reason}; ${label} not on both, not compared` };
}

/** An equality look-up on an indexed contacts column (within the institution). */
export interface IndexedLookup {
  column: 'email_normalized' | 'mobile_e164' | 'ssn_hash_full';
  value: string;
}

/**
 * The look-ups that find every profile isDuplicate could accept: a duplicate always shares an
 * identifier the rule uses, or (full SSN rule) the full SSN hash. Last name and last 6/4 only
 * narrow those candidates, so they are never looked up on their own. An empty list means no
 * profile can be a duplicate. At most three look-ups, whatever the store's size.
 */
export function candidateLookups(rule: DuplicateRule, applicant: Candidate): IndexedLookup[] {
  const lookups: IndexedLookup[] = [];
  if (rule.identifier !== 'mobile' && applicant.emailNormalized) {
    lookups.push({ column: 'email_normalized', value: applicant.emailNormalized });
  }
  if (rule.identifier !== 'email' && applicant.mobileE164) {
    lookups.push({ column: 'mobile_e164', value: applicant.mobileE164 });
  }
  if (rule.ssn === 'full' && applicant.ssnHashFull) {
    lookups.push({ column: 'ssn_hash_full', value: applicant.ssnHashFull });
  }
  return lookups;
}

/** Maps a contacts row (snake_case columns) to the profile isDuplicate compares. */
export function existingProfileFromRow(row: {
  email_normalized: string | null;
  mobile_e164: string | null;
  last_name_folded: string | null;
  ssn_hash_full: string | null;
  ssn_hash_last6: string | null;
  ssn_hash_last4: string | null;
}): ExistingProfile {
  return {
    emailNormalized: row.email_normalized,
    mobileE164: row.mobile_e164,
    lastNameFolded: row.last_name_folded,
    ssnHashFull: row.ssn_hash_full,
    ssnHashLast6: row.ssn_hash_last6,
    ssnHashLast4: row.ssn_hash_last4,
  };
}
