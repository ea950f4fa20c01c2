/**
 * Likely duplicates the exact rules miss (pure). Two ways in:
 * - the same folded full name, plus a sign that it is one person (comparePair);
 * - names that differ but are close (one equal, the other a typo or a short form: "Jon"/"John",
 *   "Kath"/"Katherine"), within one household (a shared email or mobile) or one employer
 *   (compareSimilarNames).
 * Each sign adds a reason with a weight, and the score combines them as independent evidence
 * (1 − Π(1 − weight)). Reasons name what matched, never the values, because the queue is shown to
 * staff who may not see both contacts' details in full.
 */

export interface FuzzyContact {
  id: string;
  firstNameFolded: string;
  lastNameFolded: string;
  emailNormalized: string | null;
  mobileE164: string | null;
  employerId: string | null;
}

export type ReasonCode =
  | 'same_email'
  | 'same_mobile'
  | 'mobile_last6'
  | 'email_other_domain'
  | 'email_typo'
  | 'same_employer'
  | 'similar_name_same_email'
  | 'similar_name_same_mobile'
  | 'similar_name_same_employer';

export interface Reason {
  code: ReasonCode;
  text: string;
  /** how strongly this sign alone points to one person (0–1) */
  weight: number;
}

const weights = {
  same_email: 0.95,
  same_mobile: 0.95,
  mobile_last6: 0.85,
  email_other_domain: 0.8,
  email_typo_1: 0.75,
  email_typo_2: 0.65,
  same_employer: 0.6,
  similar_name_same_email: 0.8,
  similar_name_same_mobile: 0.8,
  similar_name_same_employer: 0.5,
};

/** Levenshtein distance when it is at most `max`, else null (banded: O(len × max)). */
export function boundedEditDistance(a: string, b: string, max: number): number | null {
  if (Math.abs(a.length - b.length) > max) return null;
  if (a === b) return 0;
  const inf = max + 1;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j <= max ? j : inf;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - max);
    const to = Math.min(b.length, i + max);
    cur.fill(inf);
    cur[0] = i <= max ? i : inf;
    let best = cur[0];
    for (let j = from; j <= to; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost, inf);
      if (cur[j] < best) best = cur[j];
    }
    if (best > max) return null;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length] <= max ? prev[b.length] : null;
}

function splitEmail(email: string): [string, string] {
  const at = email.lastIndexOf('@');
  return [email.slice(0, at), email.slice(at + 1)];
}

/** The reasons' combined score, as independent evidence; null without any reason. */
function scored(reasons: Reason[]): { score: number; reasons: Reason[] } | null {
  if (reasons.length === 0) return null;
  const miss = reasons.reduce((p, r) => p * (1 - r.weight), 1);
  return { score: Math.min(0.99, Math.round((1 - miss) * 100) / 100), reasons };
}

export function sameFullName(a: FuzzyContact, b: FuzzyContact): boolean {
  return a.lastNameFolded === b.lastNameFolded && a.firstNameFolded === b.firstNameFolded && a.lastNameFolded !== '';
}

/** Why two contacts are probably one person, and how sure (0–1); null when nothing points that way. */
export function comparePair(a: FuzzyContact, b: FuzzyContact): { score: number; reasons: Reason[] } | null {
  if (a.id === b.id || !sameFullName(a, b)) return null;
  const reasons: Reason[] = [];
  if (a.emailNormalized && b.emailNormalized) {
    if (a.emailNormalized === b.emailNormalized) {
      reasons.push({ code: 'same_email', text: 'same name and the same email address', weight: weights.same_email });
    } else {
      const [localA, domainA] = splitEmail(a.emailNormalized);
      const [localB, domainB] = splitEmail(b.emailNormalized);
      if (localA === localB && domainA !== domainB) reasons.push({ code: 'email_other_domain', text: 'same name and the same email name at another domain', weight: weights.email_other_domain });
      const distance = boundedEditDistance(a.emailNormalized, b.emailNormalized, 2);
      if (distance !== null) {
        reasons.push({
          code: 'email_typo',
          text: `same name and email addresses that differ by ${distance} character${distance === 1 ? '' : 's'}`,
          weight: distance === 1 ? weights.email_typo_1 : weights.email_typo_2,
        });
      }
    }
  }
  if (a.mobileE164 && b.mobileE164) {
    if (a.mobileE164 === b.mobileE164) reasons.push({ code: 'same_mobile', text: 'same name and the same mobile phone', weight: weights.same_mobile });
    else if (a.mobileE164.length >= 6 && b.mobileE164.length >= 6 && a.mobileE164.slice(-6) === b.mobileE164.slice(-6)) {
      reasons.push({ code: 'mobile_last6', text: 'same name and mobile numbers ending in the same 6 digits', weight: weights.mobile_last6 });
    }
  }
  if (a.employerId && a.employerId === b.employerId) reasons.push({ code: 'same_employer', text: 'same name at the same employer', weight: weights.same_employer });
  return scored(reasons);
}

/**
 * Two spellings of one name: equal; a short form of 3+ letters ("alex" / "alexander"); one letter
 * more or less ("jon" / "john"); or one letter changed in names of 5+ letters ("smith" /
 * "smyth"). A changed letter in a short name is often another name ("mark" / "mary").
 */
export function similarNames(x: string, y: string): boolean {
  if (x === y) return x !== '';
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  if (short.length >= 3 && long.startsWith(short)) return true;
  if (boundedEditDistance(x, y, 1) === null) return false;
  return long.length !== short.length ? short.length >= 3 : short.length >= 5;
}

/**
 * Contacts whose names differ but are close, sharing a household (email, mobile) or an employer.
 * One name part must be equal and the other similar: two people at one address with the same last
 * name and unrelated first names are a family (seed 002), not one person.
 */
export function compareSimilarNames(a: FuzzyContact, b: FuzzyContact): { score: number; reasons: Reason[] } | null {
  if (a.id === b.id || sameFullName(a, b)) return null;
  const close =
    (a.lastNameFolded !== '' && a.lastNameFolded === b.lastNameFolded && similarNames(a.firstNameFolded, b.firstNameFolded)) ||
    (a.firstNameFolded !== '' && a.firstNameFolded === b.firstNameFolded && similarNames(a.lastNameFolded, b.lastNameFolded));
  if (!close) return null;
  const reasons: Reason[] = [];
  if (a.emailNormalized && a.emailNormalized === b.emailNormalized) {
    reasons.push({ code: 'similar_name_same_email', text: 'similar names and the same email address', weight: weights.similar_name_same_email });
  }
  if (a.mobileE164 && a.mobileE164 === b.mobileE164) {
    reasons.push({ code: 'similar_name_same_mobile', text: 'similar names and the same mobile phone', weight: weights.similar_name_same_mobile });
  }
  if (a.employerId && a.employerId === b.employerId) {
    reasons.push({ code: 'similar_name_same_employer', text: 'similar names at the same employer', weight: weights.similar_name_same_employer });
  }
  return scored(reasons);
}

type Compare = (a: FuzzyContact, b: FuzzyContact) => { score: number; reasons: Reason[] } | null;

/** Every pair of a group worth queueing (same name by default), with the lower id first. */
export function pairsInGroup(group: readonly FuzzyContact[], compare: Compare = comparePair): { a: string; b: string; score: number; reasons: Reason[] }[] {
  const out: { a: string; b: string; score: number; reasons: Reason[] }[] = [];
  for (let i = 0; i < group.length; i++) {
    for (let j = i + 1; j < group.length; j++) {
      const result = compare(group[i], group[j]);
      if (!result) continue;
      const [a, b] = group[i].id < group[j].id ? [group[i].id, group[j].id] : [group[j].id, group[i].id];
      out.push({ a, b, ...result });
    }
  }
  return out;
}
