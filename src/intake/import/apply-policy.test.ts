import { describe, expect, it } from 'vitest';
import { applyDuplicatePolicy, type ContactState } from './apply-policy.ts';
import type { PreparedContact } from './prepare-row.ts';

const state = (): ContactState => ({
  first_name: 'Ann',
  first_name_folded: 'ann',
  last_name: 'Lee',
  last_name_folded: 'lee',
  email: 'ann@example.org',
  email_normalized: 'ann@example.org',
  mobile_phone: null,
  mobile_e164: null,
  ssn_hash_full: null,
  ssn_hash_last6: null,
  ssn_hash_last4: null,
  employer: null,
  attributes: new Map([['a-program', { key: 'program', valueText: 'Law', valueNumber: null }]]),
});
const row: PreparedContact = {
  first_name: 'Anne',
  first_name_folded: 'anne',
  last_name: 'Lee',
  last_name_folded: 'lee',
  email: 'ANN@example.org',
  email_normalized: 'ann@example.org',
  mobile_phone: '+1 212 555 0100',
  mobile_e164: '+12125550100',
  ssn_hash_full: 'h-full',
  ssn_hash_last6: 'h-6',
  ssn_hash_last4: 'h-4',
  employer: { name: 'Acme', folded: 'acme' },
  organizationId: null,
  attributes: [
    { attribute: { id: 'a-program', key: 'program', type: 'text', options: null }, value: { valueText: 'Medicine', valueNumber: null } },
    { attribute: { id: 'a-year', key: 'year', type: 'number', options: null }, value: { valueText: '3', valueNumber: 3 } },
  ],
};

describe('applyDuplicatePolicy', () => {
  it('skip changes nothing', () => {
    const s = state();
    expect(applyDuplicatePolicy('skip', s, row)).toEqual([]);
    expect(s).toEqual(state());
  });

  it('fill_empty sets only what the contact lacks', () => {
    const s = state();
    const changes = applyDuplicatePolicy('fill_empty', s, row);
    expect(changes.map((c) => c.field)).toEqual(['mobilePhone', 'ssn', 'employer', 'attributes.year']);
    expect(s).toMatchObject({ first_name: 'Ann', email: 'ann@example.org', mobile_e164: '+12125550100', ssn_hash_full: 'h-full', employer: { folded: 'acme' } });
    expect(s.attributes.get('a-program')!.valueText).toBe('Law');
    expect(changes.find((c) => c.field === 'ssn')).toEqual({ field: 'ssn', before: null, after: 'set' });
  });

  it('overwrite replaces every value the row gives, and a second identical row changes nothing', () => {
    const s = state();
    const changes = applyDuplicatePolicy('overwrite', s, row);
    expect(changes.map((c) => c.field)).toEqual(['firstName', 'email', 'mobilePhone', 'ssn', 'employer', 'attributes.program', 'attributes.year']);
    expect(s).toMatchObject({ first_name: 'Anne', first_name_folded: 'anne', email: 'ANN@example.org' });
    expect(s.attributes.get('a-program')!.valueText).toBe('Medicine');
    expect(applyDuplicatePolicy('overwrite', s, row)).toEqual([]);
  });

  it('never erases: a row without a value leaves the stored one', () => {
    const s = state();
    applyDuplicatePolicy('overwrite', s, { ...row, email: null, email_normalized: null, attributes: [] });
    expect(s.email).toBe('ann@example.org');
    expect(s.attributes.get('a-program')!.valueText).toBe('Law');
  });
});
