import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/harness.ts';
import { actors, expectedFor, optionalRoutes, routeRules } from './expectations.ts';
import { requestFor, seedFixtures, type Fixtures } from './fixtures.ts';
import { makeCallers, type Caller } from './callers.ts';
import { openApiRoutes, registeredRoutes } from './registered-routes.ts';

/** Calls that end the caller's own session run on a session of their own. */
const ownSession = new Set(['DELETE /api/session']);
/** Erasure destroys every live export of the institution, so these run after the export routes. */
const erasing = new Set(['DELETE /api/contacts/:id', 'POST /api/contacts/:id/delete', 'POST /api/contacts/:id/expunge']);

/**
 * Routes whose refusal depends on what is asked or on the record itself (a bulk action's own
 * permission, an export's tier deciding who approves, tokens for others, platform-only policy):
 * the handler decides after validation, so malformed input may get its 400 first.
 */
const refusedByTheHandler = new Set([
  'POST /api/contacts/bulk',
  'POST /api/contacts/bulk/preview',
  'POST /api/exports/:id/approve',
  'POST /api/exports/:id/refuse',
  'PUT /api/export-settings',
  'POST /api/contacts/:id/subject-access',
  'POST /api/tokens',
]);
const malformedQuery = (url: string) => (url.includes('?') ? `${url.split('?')[0]}?limit=-5&__malformed=1` : url);

describeEachEngine('authorization matrix: every route × every actor', (h) => {
  let f: Fixtures;
  let callers: Caller[];

  beforeAll(async () => {
    f = await seedFixtures(h);
    callers = await makeCallers(h, f, actors);
  }, 120_000);

  it('every registered route has a rule and a request, and every rule names a registered route', async () => {
    const registered = registeredRoutes(h.app);
    // The route tree is parsed, so check it against the OpenAPI document: nothing documented is missed.
    const documented = openApiRoutes((await h.app.inject({ method: 'GET', url: '/api/openapi.json' })).json());
    expect(documented.filter((r) => !registered.includes(r))).toEqual([]);
    expect(registered.length).toBeGreaterThan(documented.length);

    const known = { ...routeRules, ...optionalRoutes };
    expect(registered.filter((r) => !(r in known)), 'routes without a rule in test/authz/expectations.ts').toEqual([]);
    expect(registered.filter((r) => !(r in requestFor)), 'routes without a request in test/authz/fixtures.ts').toEqual([]);
    expect(Object.keys(routeRules).filter((r) => !registered.includes(r)), 'rules for routes that do not exist').toEqual([]);
  });

  it('each actor is allowed or refused on each route exactly as the rules and role permissions say', async () => {
    const registered = registeredRoutes(h.app).filter((r) => r in requestFor);
    const routes = [...registered.filter((r) => !erasing.has(r)), ...registered.filter((r) => erasing.has(r))];
    const failures: string[] = [];
    const adminRefusals: string[] = [];
    const denialProbed = new Set<string>();
    let cells = 0;
    for (const route of routes) {
      const rule = routeRules[route] ?? optionalRoutes[route];
      const path = route.slice(route.indexOf(' ') + 1);
      let anonymousStatus: number | undefined;
      for (const caller of callers) {
        const request = await requestFor[route](f);
        const res = await caller.call(request, { ownSession: ownSession.has(route) });
        cells++;
        const expected = expectedFor(rule, path, caller.spec);
        const cell = `${route} as ${caller.spec.name}: ${res.statusCode}`;
        const detail = () => (res.headers['content-type']?.toString().includes('json') ? res.json().detail : res.body.slice(0, 120));
        if (caller.spec.kind === 'anonymous') anonymousStatus = res.statusCode;
        if (res.statusCode >= 500) {
          failures.push(`${cell} — server error: ${res.body.slice(0, 200)}`);
        } else if (!expected.allowed) {
          if (res.statusCode !== expected.status) failures.push(`${cell} — expected ${expected.status} (denied): ${detail()}`);
          else if (!refusedByTheHandler.has(route) && !denialProbed.has(`${route} ${caller.spec.kind}`) && (request.payload !== undefined || request.url?.toString().includes('?'))) {
            // Refused before validation: malformed input earns the same refusal, never a 400 describing what the route expects.
            denialProbed.add(`${route} ${caller.spec.kind}`);
            const malformed = await caller.call({ ...request, url: malformedQuery(String(request.url)), ...(request.payload !== undefined ? { payload: { __malformed: [1, 2, 3] } } : {}) }, { ownSession: ownSession.has(route) });
            if (malformed.statusCode !== expected.status) failures.push(`${route} as ${caller.spec.name} with malformed input: ${malformed.statusCode}, expected ${expected.status} (denied before validation)`);
          }
          else if (expected.detail && detail() !== expected.detail) failures.push(`${cell} — expected "${expected.detail}", got "${detail()}"`);
        } else if (rule.kind === 'public' && (anonymousStatus === 401 || anonymousStatus === 403)) {
          // A public route that answers 401/403 on its own (no contact session) must answer every caller alike.
          if (res.statusCode !== anonymousStatus) failures.push(`${cell} — expected ${anonymousStatus} like an anonymous caller`);
        } else if (res.statusCode === 401 || res.statusCode === 403) {
          failures.push(`${cell} — expected to pass authorization: ${detail()}`);
        }
        // The fixtures are real, so an administrator's allowed call succeeds (public pages are fed invalid tokens on purpose).
        if (caller.spec.name === 'admin' && expected.allowed && rule.kind !== 'public' && res.statusCode >= 400) adminRefusals.push(`${cell} ${detail()}`);
      }
    }
    expect(failures, `${failures.length} of ${cells} cells`).toEqual([]);
    expect(adminRefusals, 'allowed admin calls that did not succeed (a fixture is wrong)').toEqual([]);
    expect(cells).toBe(routes.length * callers.length);
  }, 600_000);
});
