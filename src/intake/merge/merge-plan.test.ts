import { describe, expect, it } from 'vitest';
import type { Contact } from '../../db/schema.ts';
import { checkChoices, planMerge, type MergeSideData } from './merge-plan.ts';
import { contactRow } from '../../../test/support/contact-row.ts';

const contact = (over: Partial<Contact>): Contact => contactRow({ id: 'x', institution_id: 'i', organization_id: 'org-1', ...over });
const side = (c: Partial<Contact>, attributes: Record<string, string> = {}): MergeSideData => ({
  contact: contact(c),
  attributes: new Map(Object.entries(attributes).map(([k, v]) => [k, { attributeId: `a-${k}`, valueText: v, valueNumber: null }])),
});

describe('planMerge', () => {
  const survivor = side({ id: 's', email: 'ann@a.org', email_normalized: 'ann@a.org' }, { program: 'Law' });
  const other = side(
    { id: 'o', first_name: 'Anne', first_name_folded: 'anne', email: 'anne@b.org', email_normalized: 'anne@b.org', mobile_phone: '+1 212 555 0100', mobile_e164: '+12125550100', ssn_hash_full: 'f', ssn_hash_last6: '6', ssn_hash_last4: '4', opt_in_status: 'opted_in', opt_in_changed_at: '2026-01-02T00:00:00.000Z' },
    { program: 'Medicine', year: '3' },
  );

  it("keeps the survivor's values, fills what it lacks from the other, and never shows an SSN", () => {
    const plan = planMerge(survivor, other, {});
    const byField = Object.fromEntries(plan.fields.map((f) => [f.field, f]));
    expect(byField.firstName).toMatchObject({ survivor: 'Ann', other: 'Anne', chosen: 'survivor', result: 'Ann' });
    expect(byField.email).toMatchObject({ chosen: 'survivor', result: 'ann@a.org' });
    expect(byField.mobilePhone).toMatchObject({ chosen: 'other', result: '+1 212 555 0100' });
    expect(byField.ssn).toMatchObject({ survivor: null, other: 'set', chosen: 'other', result: 'set' });
    expect(byField['attributes.program']).toMatchObject({ chosen: 'survivor', result: 'Law' });
    expect(byField['attributes.year']).toMatchObject({ chosen: 'other', result: '3' });
    expect(plan.columns).toEqual({ mobile_phone: '+1 212 555 0100', mobile_e164: '+12125550100', ssn_hash_full: 'f', ssn_hash_last6: '6', ssn_hash_last4: '4' });
    expect(plan.changed).toEqual(['mobilePhone', 'ssn', 'attributes.year']);
    expect(JSON.stringify(plan.fields)).not.toMatch(/"f"|"6"|"4"/);
  });

  it('follows explicit choices, field by field, with the derived columns', () => {
    const plan = planMerge(survivor, other, { firstName: 'other', email: 'other', mobilePhone: 'survivor', optInStatus: 'other', 'attributes.program': 'other' });
    expect(plan.columns).toMatchObject({ first_name: 'Anne', first_name_folded: 'anne', email: 'anne@b.org', email_normalized: 'anne@b.org', opt_in_status: 'opted_in', opt_in_changed_at: '2026-01-02T00:00:00.000Z' });
    expect(plan.columns).not.toHaveProperty('mobile_phone');
    expect(plan.attributes.get('program')!.valueText).toBe('Medicine');
  });

  it('refuses choices that are not fields of either contact or not a side', () => {
    expect(checkChoices({ email: 'other', 'attributes.program': 'survivor' }, new Set(['program']))).toEqual([]);
    const errors = checkChoices({ shoeSize: 'other', email: 'both', 'attributes.nope': 'other' }, new Set(['program']));
    expect(errors.map((e) => e.field)).toEqual(['choices.shoeSize', 'choices.email', 'choices.attributes.nope']);
  });
});
