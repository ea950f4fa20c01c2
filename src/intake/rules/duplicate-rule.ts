import { z } from 'zod';

/**
 * A duplicate-check rule (seed 002), set per institution and overridable per application form:
 * one identifier, optionally AND last name, optionally an SSN condition.
 *
 * Reading of the seed's list of twelve: its lines name the data points ("Email Only + SSN"), and
 * "SSN" there is the full SSN, the option the seed's first SSN bullet calls "Full SSN". That
 * bullet refines the list's "AND SSN matches": a full SSN takes priority (see match.ts). The
 * seed's second SSN bullet adds "Last 6" and "Last 4" as further options which, "when added to
 * your duplicate checking", are a plain AND. So there are 3 identifiers × 2 × 4 = 24 rules, of
 * which the twelve listed are those with ssn 'none' or 'full'.
 */
export const duplicateRuleSchema = z.object({
  identifier: z.enum(['email', 'mobile', 'email_or_mobile']),
  lastName: z.boolean(),
  ssn: z.enum(['none', 'full', 'last6', 'last4']),
});

export type DuplicateRule = z.infer<typeof duplicateRuleSchema>;
export type DuplicateIdentifier = DuplicateRule['identifier'];
export type SsnCondition = DuplicateRule['ssn'];

const identifierLabels: Record<DuplicateIdentifier, string> = {
  email: 'Email Only',
  mobile: 'Mobile Phone Only',
  email_or_mobile: 'BOTH (Email OR Mobile Phone)',
};

const ssnLabels: Record<Exclude<SsnCondition, 'none'>, string> = {
  full: 'SSN',
  last6: 'Last 6 of SSN',
  last4: 'Last 4 of SSN',
};

/** The rule in the seed's own wording, e.g. "BOTH (Email OR Mobile Phone) + Last Name + SSN". */
export function describeRule(rule: DuplicateRule): string {
  const parts = [identifierLabels[rule.identifier]];
  if (rule.lastName) parts.push('Last Name');
  if (rule.ssn !== 'none') parts.push(ssnLabels[rule.ssn]);
  return parts.join(' + ');
}

/** Every rule (24), in the seed's order: identifier varies fastest, then last name, then SSN. */
export function allDuplicateRules(): DuplicateRule[] {
  const rules: DuplicateRule[] = [];
  for (const ssn of duplicateRuleSchema.shape.ssn.options) {
    for (const lastName of [false, true]) {
      for (const identifier of duplicateRuleSchema.shape.identifier.options) {
        rules.push({ identifier, lastName, ssn });
      }
    }
  }
  return rules;
}

/** The twelve rules the seed lists one by one (no SSN, or the full SSN). */
export function isSeedListedRule(rule: DuplicateRule): boolean {
  return rule.ssn === 'none' || rule.ssn === 'full';
}

/** Form fields a rule compares; verification needs every one of them required (seed 002). */
export type DuplicateCheckField = 'email' | 'mobilePhone' | 'lastName' | 'ssn';

export function fieldsCheckedBy(rule: DuplicateRule): DuplicateCheckField[] {
  const fields: DuplicateCheckField[] = [];
  if (rule.identifier !== 'mobile') fields.push('email');
  if (rule.identifier !== 'email') fields.push('mobilePhone');
  if (rule.lastName) fields.push('lastName');
  if (rule.ssn !== 'none') fields.push('ssn');
  return fields;
}
