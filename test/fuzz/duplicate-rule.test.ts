import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../support/harness.ts';
import { allDuplicateRules, duplicateRuleSchema } from '../../src/intake/rules/duplicate-rule.ts';
import { intakeSettingsBody } from '../../src/intake/settings-service.ts';

/** The duplicate-rule configuration on arbitrary input: exactly the seed's rules are accepted, everything else is a field error. */

const RUNS = 150;
const value = fc.oneof(fc.constantFrom('email', 'mobile', 'email_or_mobile', 'none', 'full', 'last6', 'last4', true, false, 'US', 'FR', 'zz', ''), fc.jsonValue({ maxDepth: 2 }));
const rule = fc.dictionary(fc.constantFrom('identifier', 'lastName', 'ssn', 'extra'), value, { maxKeys: 4 });
const body = fc.oneof(fc.dictionary(fc.constantFrom('duplicateRule', 'defaultRegion', 'extra'), fc.oneof(rule, value), { maxKeys: 3 }), fc.jsonValue({ maxDepth: 3 }));
const seedRules = new Set(allDuplicateRules().map((r) => JSON.stringify(r)));

it('the rule schema accepts exactly the seed-listed rules, and never throws', () => {
  fc.assert(
    fc.property(fc.oneof(rule, fc.anything({ maxDepth: 2 })), (input) => {
      const parsed = duplicateRuleSchema.safeParse(input);
      if (parsed.success) expect(seedRules.has(JSON.stringify({ identifier: parsed.data.identifier, lastName: parsed.data.lastName, ssn: parsed.data.ssn }))).toBe(true);
      else expect(parsed.error.issues.length).toBeGreaterThan(0);
      expect(() => intakeSettingsBody.safeParse(input)).not.toThrow();
    }),
    { numRuns: RUNS },
  );
});

describeEachEngine('intake settings under arbitrary bodies', (h) => {
  let tenant: SeededTenant;
  beforeAll(async () => {
    tenant = await h.tenant();
  });

  it('PUT /api/intake/settings: 200 only for a valid rule and region, else 400 naming the field; never 500; a refusal changes nothing', { timeout: 60_000 }, async () => {
    const read = async () => (await h.request(tenant.admin.token, { method: 'GET', url: '/api/intake/settings' })).json();
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const before = await read();
        const res = await h.request(tenant.admin.token, { method: 'PUT', url: '/api/intake/settings', payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
        expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
        if (res.statusCode === 200) {
          expect(intakeSettingsBody.safeParse(payload).success).toBe(true);
          return;
        }
        expect(res.headers['content-type']).toContain('application/problem+json');
        if (res.statusCode === 400) for (const e of res.json().errors) expect(e.field).toMatch(/^(body|duplicateRule|defaultRegion)/);
        expect(await read()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });
});
