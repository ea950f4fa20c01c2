import { describe, it, expect } from 'vitest';
import { allDuplicateRules, describeRule, type DuplicateRule } from './duplicate-rule.ts';
import { candidateLookups, existingProfileFromRow, isDuplicate, type Candidate, type ExistingProfile } from './match.ts';
import { ssnHashes } from './normalize.ts';

const key = Buffer.alloc(32, 7);
function ssn(digits: string) {
  const h = ssnHashes(key, digits);
  return { ssnHashFull: h.full, ssnHashLast6: h.last6, ssnHashLast4: h.last4 };
}
const noSsn = { ssnHashFull: null, ssnHashLast6: null, ssnHashLast4: null };
const SSN = ssn('123456789');
const SSN_ALL_DIFFERENT = ssn('234567012');
const SSN_SAME_LAST6 = ssn('223456789'); // only the area differs
const SSN_SAME_LAST4_ONLY = ssn('123986789'); // group differs: last 6 differs, last 4 equal

const existing: ExistingProfile = {
  emailNormalized: 'ana@example.org',
  mobileE164: '+12015550123',
  lastNameFolded: 'garcia',
  ...SSN,
};
const same: Candidate = { ...existing };
const profile = (o: Partial<ExistingProfile>): ExistingProfile => ({ ...existing, ...o });
const applicant = (o: Partial<Candidate>): Candidate => ({ ...same, ...o });
const otherEmail = 'someone@example.org';
const otherMobile = '+33612345678';

interface Scenario {
  name: string;
  applicant: Candidate;
  existing: ExistingProfile;
  expected: (rule: DuplicateRule) => boolean;
}

// Each expectation is written from the seed's sentences for that situation, not from the code.
const scenarios: Scenario[] = [
  { name: 'everything matches', applicant: same, existing, expected: () => true },
  {
    name: 'everything matches, no SSN on either side',
    applicant: applicant(noSsn),
    existing: profile(noSsn),
    expected: () => true,
  },
  {
    name: 'only the email matches (mobile differs, no applicant SSN)',
    applicant: applicant({ mobileE164: otherMobile, ...noSsn }),
    existing,
    expected: (r) => r.identifier !== 'mobile',
  },
  {
    name: 'only the mobile matches (email differs, no applicant SSN)',
    applicant: applicant({ emailNormalized: otherEmail, ...noSsn }),
    existing,
    expected: (r) => r.identifier !== 'email',
  },
  {
    name: 'applicant gave no email, mobile matches',
    applicant: applicant({ emailNormalized: undefined, ...noSsn }),
    existing,
    expected: (r) => r.identifier !== 'email',
  },
  {
    name: 'existing profile has no email, email-only applicant',
    applicant: applicant({ mobileE164: null, ...noSsn }),
    existing: profile({ emailNormalized: null }),
    expected: () => false,
  },
  {
    name: 'neither email nor mobile matches, no SSN',
    applicant: applicant({ emailNormalized: otherEmail, mobileE164: otherMobile, ...noSsn }),
    existing,
    expected: () => false,
  },
  {
    name: 'identifiers match, last name differs, no applicant SSN',
    applicant: applicant({ lastNameFolded: 'garcia lopez', ...noSsn }),
    existing,
    expected: (r) => !r.lastName,
  },
  {
    name: 'identifiers and last name match, full SSN entirely different',
    applicant: applicant(SSN_ALL_DIFFERENT),
    existing,
    expected: (r) => r.ssn === 'none',
  },
  {
    name: 'identifiers and last name match, SSN differs in the first 3 digits only',
    applicant: applicant(SSN_SAME_LAST6),
    existing,
    expected: (r) => r.ssn !== 'full',
  },
  {
    name: 'identifiers and last name match, SSN differs in the middle 2 digits only',
    applicant: applicant(SSN_SAME_LAST4_ONLY),
    existing,
    expected: (r) => r.ssn === 'none' || r.ssn === 'last4',
  },
  {
    name: 'existing profile has no SSN, other points match',
    applicant: same,
    existing: profile(noSsn),
    expected: () => true,
  },
  {
    name: 'existing profile has no SSN, identifiers differ',
    applicant: applicant({ emailNormalized: otherEmail, mobileE164: otherMobile }),
    existing: profile(noSsn),
    expected: () => false,
  },
  {
    name: 'full SSN matches, nothing else does',
    applicant: { lastNameFolded: 'dupont', emailNormalized: otherEmail, mobileE164: otherMobile, ...SSN },
    existing,
    expected: (r) => r.ssn === 'full',
  },
  {
    name: 'full SSN matches, applicant gave no email, mobile or last name',
    applicant: { ...SSN },
    existing,
    expected: (r) => r.ssn === 'full',
  },
];

const table = allDuplicateRules().flatMap((rule) =>
  scenarios.map((s) => ({ rule: describeRule(rule), ruleValue: rule, scenario: s.name, s, duplicate: s.expected(rule) })),
);

describe('isDuplicate over every rule combination', () => {
  it.each(table)('$rule | $scenario → duplicate: $duplicate', ({ ruleValue, s, duplicate }) => {
    const result = isDuplicate(ruleValue, s.applicant, s.existing);
    expect(result.duplicate).toBe(duplicate);
    expect(result.reason).not.toMatch(/@|\+\d|garcia|[0-9a-f]{64}/);
  });

  it('gives every one of the 24 rules both matching and non-matching cases', () => {
    for (const rule of allDuplicateRules()) {
      const outcomes = new Set(table.filter((row) => row.rule === describeRule(rule)).map((row) => row.duplicate));
      expect([...outcomes].sort()).toEqual([false, true]);
    }
  });
});

describe('candidateLookups', () => {
  it.each(table.filter((row) => row.duplicate))('finds the profile for $rule | $scenario', ({ ruleValue, s }) => {
    const lookups = candidateLookups(ruleValue, s.applicant);
    const columns = { email_normalized: 'emailNormalized', mobile_e164: 'mobileE164', ssn_hash_full: 'ssnHashFull' } as const;
    expect(lookups.some((l) => s.existing[columns[l.column]] === l.value)).toBe(true);
  });

  it('uses only the indexed columns the rule compares, at most three equality look-ups', () => {
    const rule = (r: Partial<DuplicateRule>): DuplicateRule => ({ identifier: 'email_or_mobile', lastName: true, ssn: 'none', ...r });
    expect(candidateLookups(rule({ identifier: 'email' }), same)).toEqual([{ column: 'email_normalized', value: 'ana@example.org' }]);
    expect(candidateLookups(rule({ identifier: 'mobile' }), same)).toEqual([{ column: 'mobile_e164', value: '+12015550123' }]);
    expect(candidateLookups(rule({ ssn: 'full' }), same).map((l) => l.column)).toEqual([
      'email_normalized',
      'mobile_e164',
      'ssn_hash_full',
    ]);
    // last 6 / last 4 and last name only narrow candidates: no look-up on their own
    expect(candidateLookups(rule({ ssn: 'last6' }), same).map((l) => l.column)).toEqual(['email_normalized', 'mobile_e164']);
    expect(candidateLookups(rule({ identifier: 'email' }), { lastNameFolded: 'garcia', ...SSN })).toEqual([]);
  });
});

describe("seed 002's SSN sentences", () => {
  const full: DuplicateRule = { identifier: 'email', lastName: true, ssn: 'full' };

  it('Full SSN: takes priority over the other duplicate check data points', () => {
    const onlySsn = { ...SSN };
    const allButSsn = applicant(SSN_ALL_DIFFERENT);
    expect(isDuplicate(full, onlySsn, existing)).toMatchObject({ duplicate: true, reason: 'full SSN matches (takes priority)' });
    expect(isDuplicate(full, allButSsn, existing)).toMatchObject({ duplicate: false, reason: 'full SSN differs (takes priority)' });
  });

  it('Full SSN: if the SSN does not match but other criteria do, the applicant is not a duplicate', () => {
    for (const identifier of ['email', 'mobile', 'email_or_mobile'] as const) {
      expect(isDuplicate({ identifier, lastName: true, ssn: 'full' }, applicant(SSN_ALL_DIFFERENT), existing).duplicate).toBe(false);
      expect(isDuplicate({ identifier, lastName: true, ssn: 'none' }, applicant(SSN_ALL_DIFFERENT), existing).duplicate).toBe(true);
    }
  });

  it('Full SSN: a full SSN matching an existing talent is always a duplicate', () => {
    const stranger = { emailNormalized: otherEmail, mobileE164: otherMobile, lastNameFolded: 'martin', ...SSN };
    for (const identifier of ['email', 'mobile', 'email_or_mobile'] as const) {
      for (const lastName of [false, true]) {
        expect(isDuplicate({ identifier, lastName, ssn: 'full' }, stranger, existing).duplicate).toBe(true);
      }
    }
  });

  it('Full SSN: an existing talent without an SSN who matches the other data points is a duplicate', () => {
    expect(isDuplicate(full, same, profile(noSsn)).duplicate).toBe(true);
    expect(isDuplicate(full, applicant({ lastNameFolded: 'martin' }), profile(noSsn)).duplicate).toBe(false);
  });

  it('Full SSN (our reading): an applicant without an SSN is decided by the other data points', () => {
    expect(isDuplicate(full, applicant(noSsn), existing).duplicate).toBe(true);
    expect(isDuplicate(full, applicant({ ...noSsn, emailNormalized: otherEmail }), existing).duplicate).toBe(false);
  });

  it('Last 6 or Last 4: they add another parameter to duplicate checking', () => {
    const last4: DuplicateRule = { identifier: 'mobile', lastName: false, ssn: 'last4' };
    expect(isDuplicate(last4, applicant(SSN_SAME_LAST4_ONLY), existing).duplicate).toBe(true);
    expect(isDuplicate(last4, applicant(SSN_ALL_DIFFERENT), existing).duplicate).toBe(false);
    // an AND, never a priority: a matching last 4 alone is not a duplicate
    expect(isDuplicate(last4, applicant({ mobileE164: otherMobile }), existing).duplicate).toBe(false);
  });

  it('Last 6: with "email" and "last name" and "last 6 of SSN", all 3 must match', () => {
    const rule: DuplicateRule = { identifier: 'email', lastName: true, ssn: 'last6' };
    expect(isDuplicate(rule, applicant(SSN_SAME_LAST6), existing)).toMatchObject({
      duplicate: true,
      reason: 'email matches and last name matches and last 6 of SSN matches',
    });
    expect(isDuplicate(rule, applicant({ emailNormalized: otherEmail }), existing).duplicate).toBe(false);
    expect(isDuplicate(rule, applicant({ lastNameFolded: 'martin' }), existing).duplicate).toBe(false);
    expect(isDuplicate(rule, applicant(SSN_SAME_LAST4_ONLY), existing).duplicate).toBe(false);
  });

  it('Last 6 or Last 4: an SSN not yet on the talent profile, other data points matching, is a duplicate', () => {
    for (const ssnRule of ['last6', 'last4'] as const) {
      const rule: DuplicateRule = { identifier: 'email', lastName: true, ssn: ssnRule };
      expect(isDuplicate(rule, same, profile(noSsn)).duplicate).toBe(true);
      expect(isDuplicate(rule, applicant({ lastNameFolded: 'martin' }), profile(noSsn)).duplicate).toBe(false);
    }
  });
});

describe("seed 002's breakdown of the twelve listed checks", () => {
  const lines: [string, DuplicateRule][] = [
    ['Email Only -- will trigger if the email exists', { identifier: 'email', lastName: false, ssn: 'none' }],
    ['Mobile Phone Only -- will trigger if the mobile phone exists', { identifier: 'mobile', lastName: false, ssn: 'none' }],
    ['BOTH (Email OR Mobile Phone) -- will trigger if either email or mobile phone exists', { identifier: 'email_or_mobile', lastName: false, ssn: 'none' }],
    ['Email Only + Last Name -- will trigger if the email exists AND last name matches', { identifier: 'email', lastName: true, ssn: 'none' }],
    ['Mobile Phone Only + Last Name -- will trigger if mobile phone exists AND last name matches', { identifier: 'mobile', lastName: true, ssn: 'none' }],
    ['BOTH (Email OR Mobile Phone) + Last Name -- will trigger if email OR mobile phone exists AND last name matches', { identifier: 'email_or_mobile', lastName: true, ssn: 'none' }],
    ['Email Only + SSN -- will trigger if the email exists AND SSN matches', { identifier: 'email', lastName: false, ssn: 'full' }],
    ['Mobile Phone Only + SSN -- will trigger if mobile phone exists AND SSN matches', { identifier: 'mobile', lastName: false, ssn: 'full' }],
    ['BOTH (Email OR Mobile Phone) + SSN -- will trigger if email OR mobile phone exists AND SSN matches', { identifier: 'email_or_mobile', lastName: false, ssn: 'full' }],
    ['Email Only + Last Name + SSN -- will trigger if the email exists AND last name AND SSN matches', { identifier: 'email', lastName: true, ssn: 'full' }],
    ['Mobile Phone Only + Last Name + SSN -- will trigger if mobile phone exists AND last name AND SSN matches', { identifier: 'mobile', lastName: true, ssn: 'full' }],
    ['BOTH (Email OR Mobile Phone) + Last Name + SSN -- will trigger if email OR mobile phone exists AND last name AND SSN matches', { identifier: 'email_or_mobile', lastName: true, ssn: 'full' }],
  ];

  it('lists exactly the twelve rules without SSN or with the full SSN, in order', () => {
    expect(lines.map(([, rule]) => rule)).toEqual(allDuplicateRules().slice(0, 12));
  });

  it.each(lines)('%s', (line, rule) => {
    expect(line.startsWith(`${describeRule(rule)} -- `)).toBe(true);
    expect(isDuplicate(rule, same, existing).duplicate).toBe(true);
    // each named point, when it does not match, stops the trigger (applicant SSN absent, so it cannot take priority)
    const noApplicantSsn = applicant(noSsn);
    const identifierFails = applicant({ ...noSsn, emailNormalized: otherEmail, mobileE164: otherMobile });
    expect(isDuplicate(rule, noApplicantSsn, existing).duplicate).toBe(true);
    expect(isDuplicate(rule, identifierFails, existing).duplicate).toBe(false);
    if (rule.identifier === 'email_or_mobile') {
      expect(isDuplicate(rule, applicant({ ...noSsn, emailNormalized: otherEmail }), existing).duplicate).toBe(true);
      expect(isDuplicate(rule, applicant({ ...noSsn, mobileE164: otherMobile }), existing).duplicate).toBe(true);
    }
    if (rule.lastName) {
      expect(isDuplicate(rule, applicant({ ...noSsn, lastNameFolded: 'martin' }), existing).duplicate).toBe(false);
    }
    if (rule.ssn === 'full') {
      expect(isDuplicate(rule, applicant(SSN_ALL_DIFFERENT), existing).duplicate).toBe(false);
    }
  });
});

it('existingProfileFromRow maps the contacts columns', () => {
  expect(
    existingProfileFromRow({
      email_normalized: 'ana@example.org',
      mobile_e164: null,
      last_name_folded: 'garcia',
      ssn_hash_full: null,
      ssn_hash_last6: null,
      ssn_hash_last4: null,
    }),
  ).toEqual({ ...profile({ mobileE164: null }), ...noSsn });
});
