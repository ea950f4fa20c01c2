import { describe, it, expect } from 'vitest';
import { allDuplicateRules, describeRule, duplicateRuleSchema, fieldsCheckedBy, isSeedListedRule } from './duplicate-rule.ts';

describe('duplicate rules', () => {
  it('enumerates the 24 distinct combinations, twelve of them listed by the seed', () => {
    const rules = allDuplicateRules();
    expect(rules).toHaveLength(24);
    expect(new Set(rules.map(describeRule)).size).toBe(24);
    expect(rules.filter(isSeedListedRule)).toHaveLength(12);
    for (const rule of rules) expect(duplicateRuleSchema.parse(rule)).toEqual(rule);
  });

  it.each([
    [{ identifier: 'email', lastName: false, ssn: 'none' }, 'Email Only'],
    [{ identifier: 'mobile', lastName: true, ssn: 'none' }, 'Mobile Phone Only + Last Name'],
    [{ identifier: 'email_or_mobile', lastName: true, ssn: 'full' }, 'BOTH (Email OR Mobile Phone) + Last Name + SSN'],
    [{ identifier: 'email', lastName: true, ssn: 'last6' }, 'Email Only + Last Name + Last 6 of SSN'],
    [{ identifier: 'mobile', lastName: false, ssn: 'last4' }, 'Mobile Phone Only + Last 4 of SSN'],
  ] as const)('describes %j as "%s"', (rule, label) => {
    expect(describeRule(rule)).toBe(label);
  });

  it('rejects unknown identifiers and SSN options', () => {
    expect(duplicateRuleSchema.safeParse({ identifier: 'phone', lastName: false, ssn: 'none' }).success).toBe(false);
    expect(duplicateRuleSchema.safeParse({ identifier: 'email', lastName: false, ssn: 'last5' }).success).toBe(false);
    expect(duplicateRuleSchema.safeParse({ identifier: 'email', ssn: 'none' }).success).toBe(false);
  });

  it('names the form fields each rule compares', () => {
    expect(fieldsCheckedBy({ identifier: 'email', lastName: false, ssn: 'none' })).toEqual(['email']);
    expect(fieldsCheckedBy({ identifier: 'mobile', lastName: true, ssn: 'last4' })).toEqual(['mobilePhone', 'lastName', 'ssn']);
    expect(fieldsCheckedBy({ identifier: 'email_or_mobile', lastName: false, ssn: 'full' })).toEqual(['email', 'mobilePhone', 'ssn']);
  });
});
