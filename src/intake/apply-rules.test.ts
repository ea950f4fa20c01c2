import { expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { allDuplicateRules, describeRule, type DuplicateRule } from './rules/duplicate-rule.ts';
import { intakeApi } from './intake-test-api.ts';

/**
 * Seed 002's rule combinations through the public apply endpoint: for every rule (the twelve the
 * seed lists and the last 6 / last 4 variants), an application that the rule calls a duplicate
 * attaches to the existing profile (no contact created, the profile unchanged), and one it does not
 * creates a new contact. Each case has its own existing contact, so cases cannot meet each other.
 * The values are typed differently from the stored ones (case, spacing, national phone format,
 * accents) to prove that normalisation sits between the request and the look-ups.
 */

interface Person {
  email: string;
  mobile: string; // E.164
  lastName: string;
  ssn: string | null;
}

type Variant = 'same' | 'different';
interface Case {
  name: string;
  identifiers: Variant;
  lastName: Variant;
  /** the applicant's SSN relative to the existing one: same, all different, same last 4 only, none given */
  ssn: 'same' | 'different' | 'same_last4' | 'none';
  existingHasSsn: boolean;
  duplicate: (rule: DuplicateRule) => boolean;
}

const cases: Case[] = [
  { name: 'everything matches', identifiers: 'same', lastName: 'same', ssn: 'same', existingHasSsn: true, duplicate: () => true },
  { name: 'the identifier differs', identifiers: 'different', lastName: 'same', ssn: 'none', existingHasSsn: true, duplicate: () => false },
  { name: 'the last name differs', identifiers: 'same', lastName: 'different', ssn: 'none', existingHasSsn: true, duplicate: (r) => !r.lastName },
  // Full SSN takes priority: a different one means not a duplicate whatever else matches.
  { name: 'the SSN differs', identifiers: 'same', lastName: 'same', ssn: 'different', existingHasSsn: true, duplicate: (r) => r.ssn === 'none' },
  // Full SSN takes priority: a matching one is always a duplicate.
  { name: 'only the SSN matches', identifiers: 'different', lastName: 'different', ssn: 'same', existingHasSsn: true, duplicate: (r) => r.ssn === 'full' },
  // Last 4 adds exactly that condition; last 6 and full see a different number.
  { name: 'only the last 4 of the SSN match', identifiers: 'same', lastName: 'same', ssn: 'same_last4', existingHasSsn: true, duplicate: (r) => r.ssn === 'none' || r.ssn === 'last4' },
  // "If an SSN is not yet on a talent profile … this will be considered a duplicate."
  { name: 'the existing profile has no SSN', identifiers: 'same', lastName: 'same', ssn: 'same', existingHasSsn: false, duplicate: () => true },
];

const formatSsn = (digits: string) => `${digits.slice(0, 3)}-${digits.slice(3, 5)}-${digits.slice(5)}`;
/** "(212) 3xx-xxxx" read in the region US; its stored form is +1212…. */
const nationalOf = (e164: string) => `(${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`;

describeEachEngine('seed 002 duplicate rules through the apply endpoint', (h) => {
  let tenant: SeededTenant;
  let api: ReturnType<typeof intakeApi>;
  let serial = 0;
  const next = () => serial++;
  const person = (ssn: boolean): Person => {
    const n = next();
    return {
      email: `talent${n}@example.org`,
      mobile: `+1212${String(310 + Math.floor(n / 1000)).padStart(3, '0')}${String(n % 10_000).padStart(4, '0')}`,
      lastName: `Lefèvre-Núñez ${n}`,
      // area 2xx, group 45, a distinct serial for each person
      ssn: ssn ? `2${String(n % 100).padStart(2, '0')}45${String(1000 + n).padStart(4, '0')}` : null,
    };
  };

  it('sets up a tenant', async () => {
    tenant = await h.tenant();
    api = intakeApi(h, tenant);
  });

  for (const rule of allDuplicateRules()) {
    for (const c of cases) {
      if (!c.existingHasSsn && rule.ssn === 'none') continue;
      const expected = c.duplicate(rule);
      it(`${describeRule(rule)}: ${c.name} → ${expected ? 'duplicate (attached)' : 'new contact'}`, async () => {
        const form = await api.createForm({
          duplicateRule: rule,
          fields: [
            { field: 'firstName', required: true },
            { field: 'lastName', required: true },
            { field: 'email', required: false },
            { field: 'mobilePhone', required: false },
            { field: 'ssn', required: false },
          ],
        });
        const existing = person(c.existingHasSsn);
        const stored = await api.createContact({
          firstName: 'Ada',
          lastName: existing.lastName,
          email: existing.email,
          mobilePhone: existing.mobile,
          ...(existing.ssn ? { ssn: existing.ssn } : {}),
        });
        const other = person(true);
        // Another area and group: the full number and its last 6 differ; the serial (last 4) is kept or changed.
        const otherPrefix = `3${other.ssn!.slice(1, 3)}46`;
        const serial = existing.ssn?.slice(5) ?? '';
        const applicantSsn =
          c.ssn === 'none'
            ? null
            : c.ssn === 'same'
              ? (existing.ssn ?? other.ssn)
              : c.ssn === 'different'
                ? `${otherPrefix}${String((Number(serial) + 1) % 10_000 || 1).padStart(4, '0')}`
                : `${otherPrefix}${serial}`;
        const payload = {
          firstName: 'Ada',
          lastName: c.lastName === 'same' ? existing.lastName.toUpperCase().replace('È', 'E').replace('Ú', 'U').replace('-', ' ') : `Other ${other.lastName}`,
          email: c.identifiers === 'same' ? `  ${existing.email.toUpperCase()} ` : other.email,
          mobilePhone: c.identifiers === 'same' ? nationalOf(existing.mobile) : other.mobile,
          ...(applicantSsn ? { ssn: c.ssn === 'same' ? formatSsn(applicantSsn) : applicantSsn } : {}),
        };
        const before = await h.count('contacts');
        const res = await api.apply(form.id, payload);
        expect(res.statusCode, res.body).toBe(201);
        expect(res.json()).toMatchObject({ status: 'received', message: 'Thank you, your application has been received.' });
        expect(await h.count('contacts')).toBe(before + (expected ? 0 : 1));
        const attached = await api.applications(stored.id);
        expect(attached.map((a) => a.status)).toEqual(expected ? ['attached'] : []);
        // Attaching never changes the existing profile.
        expect(await api.contact(stored.id)).toEqual(stored);
      });
    }
  }
});
