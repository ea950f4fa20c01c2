import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../support/harness.ts';
import { Problem } from '../../src/http/problem.ts';
import { stepTypes } from '../../src/workflows/definition.ts';
import { validateDefinition } from '../../src/workflows/validate.ts';

/** The workflow validator on arbitrary definitions: a definition, or a 400 whose every error names a field; never a throw of anything else. */

const RUNS = 150;
const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('end', 's1', 's2', '0 9 * * 1', '* * * *', 'marketing', 'transactional', 'staff@example.org', '{{first_name}}', '{{attributes.nope}}', '{{links.x}}', '2026-01-01T00:00:00Z'));
const options = fc.dictionary(
  fc.constantFrom('days', 'hours', 'minutes', 'until', 'if', 'then', 'else', 'key', 'value', 'to', 'subject', 'text', 'html', 'category', 'links', 'reason', 'notify', 'subscriptionId', 'optedIn', 'attribute', 'equals'),
  fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 3 })),
  { maxKeys: 5 },
);
const step = fc.constantFrom(...stepTypes, 'unknown_step').chain((type) =>
  fc.record({ id: fc.oneof(fc.constantFrom('s1', 's2', 'end', 'a b'), fc.string({ maxLength: 5 })), type: fc.constant(type), [type]: options }, { requiredKeys: ['type'] }),
);
const trigger = fc.record(
  { type: fc.constantFrom('contact_created', 'consent_changed', 'attribute_changed', 'manual', 'schedule', 'nope'), cron: scalar, key: scalar, sources: fc.array(scalar, { maxLength: 2 }), filter: fc.jsonValue({ maxDepth: 2 }) },
  { requiredKeys: ['type'] },
);
const definition = fc.oneof(
  fc.record({ name: fc.oneof(fc.string({ maxLength: 10 }), scalar), trigger, steps: fc.array(step, { maxLength: 5 }) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 4 }),
  fc.anything({ maxDepth: 3 }),
);

describeEachEngine('workflow definition validation under arbitrary input', (h) => {
  let tenant: SeededTenant;
  beforeAll(async () => {
    tenant = await h.tenant();
  });

  it('returns a definition or refuses with 400 and field errors; nothing else escapes', { timeout: 60_000 }, async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(definition, async (input) => {
        try {
          const ok = await validateDefinition(h.ctx.db, tenant.institutionId, input);
          expect(ok.steps.length).toBeGreaterThan(0);
          for (const s of ok.steps) expect(s.id).toMatch(/^[a-z0-9_-]{1,40}$/i);
        } catch (error) {
          expect(error).toBeInstanceOf(Problem);
          const problem = error as Problem;
          expect(problem.status).toBe(400);
          expect(problem.detail).toMatch(/^The workflow was not saved: /);
          expect(problem.errors?.length).toBeGreaterThan(0);
          for (const e of problem.errors!) {
            expect(e.field).toMatch(/^(body|name|trigger|steps)/);
            expect(e.message.length).toBeGreaterThan(0);
          }
          refused++;
        }
      }),
      { numRuns: RUNS },
    );
    expect(refused).toBeGreaterThan(0);
  });

  it('the route answers arbitrary JSON bodies with 400 problem+json naming fields, never 500, and saves only what it accepts', { timeout: 60_000 }, async () => {
    const before = await h.count('workflows');
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(definition, fc.jsonValue({ maxDepth: 3 })), async (payload) => {
        const res = await h.request(tenant.admin.token, { method: 'POST', url: '/api/workflows', payload: JSON.stringify(payload) ?? 'null', headers: { 'content-type': 'application/json' } });
        expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expect(res.headers['content-type']).toContain('application/problem+json');
          expect(res.json().errors?.[0]?.field ?? res.json().detail).toBeTruthy();
        } else accepted++;
      }),
      { numRuns: RUNS },
    );
    expect((await h.count('workflows')) - before).toBe(accepted);
  });
});
