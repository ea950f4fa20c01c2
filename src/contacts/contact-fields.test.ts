import { describe, expect, it } from 'vitest';
import type { Contact } from '../db/schema.ts';
import { activityForChanges, auditPayload, diffScalars, nextUpdatedAt, normalizeContactFields } from './contact-fields.ts';
import { contactRow } from '../../test/support/contact-row.ts';

const base: Contact = contactRow({
  id: 'c1',
  institution_id: 'i1',
  organization_id: 'o1',
  first_name: 'Ada',
  last_name: 'Lovelace',
  first_name_folded: 'ada',
  last_name_folded: 'lovelace',
  email: 'ada@example.org',
  email_normalized: 'ada@example.org',
});

describe('normalizeContactFields', () => {
  it('tidies, folds and derives the search columns', () => {
    const { columns, errors } = normalizeContactFields({
      firstName: '  Éloïse ',
      lastName: 'D’Arcy-Smith',
      email: ' Eloise@Example.ORG ',
      mobilePhone: '+41 79 123 45 67',
    });
    expect(errors).toEqual([]);
    expect(columns).toEqual({
      first_name: 'Éloïse',
      first_name_folded: 'eloise',
      last_name: 'D’Arcy-Smith',
      last_name_folded: 'darcy smith',
      email: 'Eloise@Example.ORG',
      email_normalized: 'eloise@example.org',
      mobile_phone: '+41 79 123 45 67',
      mobile_e164: '+41791234567',
    });
  });

  it('clears email and phone with null or blank', () => {
    expect(normalizeContactFields({ email: null, mobilePhone: '  ' }).columns).toEqual({
      email: null,
      email_normalized: null,
      mobile_phone: null,
      mobile_e164: null,
    });
  });

  it("reads a national phone number in the institution's region, and refuses one it cannot parse", () => {
    expect(normalizeContactFields({ mobilePhone: '079 123 45 67' }, { defaultRegion: 'CH' }).columns).toMatchObject({
      mobile_phone: '079 123 45 67',
      mobile_e164: '+41791234567',
    });
    const us = normalizeContactFields({ mobilePhone: '079 123 45 67' }, { defaultRegion: 'US' });
    expect(us.columns).not.toHaveProperty('mobile_phone');
    expect(us.errors).toEqual([{ field: 'mobilePhone', message: expect.stringMatching(/valid phone number/) }]);
  });

  it('keeps an SSN only as its keyed hashes, and null removes them', () => {
    const key = Buffer.alloc(32, 7);
    const { columns, errors } = normalizeContactFields({ ssn: '123-45-6789' }, { piiHashKey: key });
    expect(errors).toEqual([]);
    expect(Object.keys(columns).sort()).toEqual(['ssn_hash_full', 'ssn_hash_last4', 'ssn_hash_last6']);
    expect(JSON.stringify(columns)).not.toMatch(/6789|123456789/);
    expect(normalizeContactFields({ ssn: '123456789' }, { piiHashKey: key }).columns).toEqual(columns);
    expect(normalizeContactFields({ ssn: null }).columns).toEqual({ ssn_hash_full: null, ssn_hash_last6: null, ssn_hash_last4: null });
    const bad = normalizeContactFields({ ssn: '000-12-3456' }, { piiHashKey: key });
    expect(bad.errors).toEqual([{ field: 'ssn', message: expect.not.stringContaining('000') }]);
  });

  it('names every bad field at once', () => {
    const { errors } = normalizeContactFields({ firstName: ' ', lastName: 'x'.repeat(201), email: 'nope', mobilePhone: 'call me' });
    expect(errors.map((e) => e.field)).toEqual(['firstName', 'lastName', 'email', 'mobilePhone']);
  });
});

describe('diffScalars', () => {
  it('reports only fields whose stored value changes, in API names', () => {
    const { columns } = normalizeContactFields({ firstName: 'Ada', lastName: 'Byron', email: 'ADA@example.org', visibility: 'everyone', optInStatus: 'opted_in' });
    expect(diffScalars(base, columns)).toEqual([
      { field: 'lastName', before: 'Lovelace', after: 'Byron' },
      { field: 'email', before: 'ada@example.org', after: 'ADA@example.org' },
      { field: 'optInStatus', before: 'unknown', after: 'opted_in' },
    ]);
  });

  it('treats a removed value as a change to null', () => {
    expect(diffScalars({ ...base, employer_id: 'e1' }, { employer_id: null })).toEqual([{ field: 'employerId', before: 'e1', after: null }]);
  });
});

describe('auditPayload', () => {
  it('nests attribute and authorization changes', () => {
    expect(
      auditPayload([
        { field: 'email', before: 'a@x.org', after: 'b@x.org' },
        { field: 'attributes.program', before: null, after: 'Law' },
        { field: 'authorizations.newsletter', before: true, after: false },
      ]),
    ).toEqual({
      before: { email: 'a@x.org', attributes: { program: null }, authorizations: { newsletter: true } },
      after: { email: 'b@x.org', attributes: { program: 'Law' }, authorizations: { newsletter: false } },
    });
  });
});

describe('activityForChanges', () => {
  it('records nothing when nothing changed', () => {
    expect(activityForChanges([], false)).toEqual([]);
  });

  it('names every changed field and adds the specific events, without personal values', () => {
    const events = activityForChanges(
      [
        { field: 'email', before: 'a@x.org', after: 'b@x.org' },
        { field: 'employerId', before: 'e1', after: 'e2' },
        { field: 'visibility', before: 'everyone', after: 'staff_only' },
        { field: 'approvalStatus', before: 'approved', after: 'rejected' },
        { field: 'optInStatus', before: 'unknown', after: 'opted_in' },
        { field: 'attributes.program', before: 'Law', after: 'Medicine' },
        { field: 'authorizations.newsletter', before: null, after: false },
      ],
      true,
    );
    expect(events).toEqual([
      {
        type: 'contact.updated',
        data: { fields: ['email', 'employerId', 'visibility', 'approvalStatus', 'optInStatus', 'attributes.program', 'authorizations.newsletter'] },
      },
      { type: 'contact.employer_changed', data: { fromEmployerId: 'e1', toEmployerId: 'e2' } },
      { type: 'contact.visibility_changed', data: { from: 'everyone', to: 'staff_only' } },
      { type: 'contact.approval_changed', data: { from: 'approved', to: 'rejected' } },
      { type: 'consent.opt_in_changed', data: { from: 'unknown', to: 'opted_in' } },
      { type: 'contact.criterion_changed', data: { attributes: ['program'] } },
      { type: 'consent.authorization_changed', data: { changes: { newsletter: false }, anyGranted: true } },
    ]);
    expect(JSON.stringify(events)).not.toContain('x.org');
    expect(JSON.stringify(events)).not.toContain('Medicine');
  });
});

describe('nextUpdatedAt', () => {
  it('is now when the stored value is earlier, else one millisecond after it, whatever form the stored value has', () => {
    const base = Date.parse('2026-11-24T10:00:00.000Z');
    const offsets = [-86_400_000, -1000, -1, 0, 1, 999, 86_400_000];
    for (const before of offsets) {
      for (const form of ['iso', 'seconds', 'offset'] as const) {
        const at = new Date(base + before);
        // Stored values are ISO strings in UTC; a value in another form still gets a correct answer.
        const previous =
          form === 'iso' ? at.toISOString() : form === 'seconds' ? at.toISOString().replace(/\.\d{3}Z$/, 'Z') : at.toISOString().replace('Z', '+00:00');
        const now = new Date(base).toISOString();
        const expected = new Date(Math.max(base, Date.parse(previous) + 1)).toISOString();
        expect(nextUpdatedAt(previous, now), `${form} ${before}`).toBe(expected);
      }
    }
    expect(nextUpdatedAt('2026-11-24T05:00:00-0500', '2026-11-24T09:00:00.000Z')).toBe('2026-11-24T10:00:00.001Z');
  });
});
