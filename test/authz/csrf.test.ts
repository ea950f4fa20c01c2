import { beforeAll, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { describeEachEngine } from '../support/harness.ts';
import { signIn, type BrowserSession } from '../support/sessions.ts';
import { routeRules } from './expectations.ts';
import { requestFor, seedFixtures, type Fixtures } from './fixtures.ts';
import { registeredRoutes } from './registered-routes.ts';

const CSRF_REFUSAL = 'Missing or wrong X-CSRF-Token header; read it from GET /api/session and send it with every change.';
const unsafe = (route: string) => /^(POST|PUT|PATCH|DELETE) \/api\//.test(route);

describeEachEngine('CSRF: cookie sessions must send X-CSRF-Token on every change; API tokens need none', (h) => {
  let f: Fixtures;
  let session: BrowserSession;
  let other: BrowserSession;

  beforeAll(async () => {
    f = await seedFixtures(h);
    session = await signIn(h, f.t.adminEmail);
    const second = await h.user(f.t, 'admin');
    other = await signIn(h, second.email);
  }, 120_000);

  it('refuses every state-changing /api route sent with the session cookie but without (or with a wrong) CSRF header', async () => {
    // Signing in over a live session needs no CSRF value: the credentials are what a forged request lacks.
    const routes = registeredRoutes(h.app).filter((r) => unsafe(r) && r !== 'POST /api/session');
    expect(routes.length).toBeGreaterThan(80);
    const failures: string[] = [];
    for (const route of routes) {
      for (const csrf of [null, other.csrfToken, `${session.csrfToken.slice(0, -1)}x`]) {
        const request: InjectOptions = await requestFor[route](f);
        const res = await h.app.inject({
          ...request,
          cookies: { lethe_session: session.cookie },
          headers: { ...(request.headers ?? {}), ...(csrf ? { 'x-csrf-token': csrf } : {}) },
        } as InjectOptions);
        const detail = res.headers['content-type']?.toString().includes('json') ? res.json().detail : res.body.slice(0, 100);
        if (res.statusCode !== 403 || detail !== CSRF_REFUSAL) failures.push(`${route} (${csrf ? 'wrong' : 'no'} token): ${res.statusCode} ${detail}`);
      }
    }
    expect(failures).toEqual([]);
    expect(routeRules['POST /api/session'].kind).toBe('public');
  }, 300_000);

  it('a refused change changes nothing; the same change with the header, or with an API token and no header, goes through', async () => {
    const contactId = await f.fresh.contact();
    const withoutHeader = await session.request({ method: 'POST', url: `/api/contacts/${contactId}/expunge`, payload: { notify: false } }, { csrf: false });
    expect(withoutHeader.statusCode).toBe(403);
    expect((await h.request(f.t.admin.token, { method: 'GET', url: `/api/contacts/${contactId}` })).statusCode).toBe(200);

    const patched = await session.request({ method: 'PATCH', url: `/api/contacts/${contactId}`, payload: { lastName: 'Withheader' } });
    expect(patched.statusCode, patched.body).toBe(200);
    const byToken = await h.request(f.t.admin.token, { method: 'PATCH', url: `/api/contacts/${contactId}`, payload: { lastName: 'Bytoken' } });
    expect(byToken.statusCode, byToken.body).toBe(200);
    expect(byToken.json().lastName).toBe('Bytoken');

    // Reads need no CSRF value; signing in again over the live session needs none either.
    expect((await session.request({ method: 'GET', url: `/api/contacts/${contactId}` }, { csrf: false })).statusCode).toBe(200);
    const again = await h.app.inject({ method: 'POST', url: '/api/session', cookies: { lethe_session: session.cookie }, payload: { email: f.t.adminEmail, password: 'correct horse battery staple' } });
    expect(again.statusCode, again.body).toBe(200);
  });

  it('the CSRF value is bound to its session and the cookie cannot be read or sent cross-site by script', async () => {
    expect(session.csrfToken).not.toBe(other.csrfToken);
    expect((await session.request({ method: 'GET', url: '/api/session' })).json().csrfToken).toBe(session.csrfToken);
    const cookie = session.response.cookies.find((c) => c.name === 'lethe_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    // A token caller is told no CSRF value exists for it.
    expect((await h.request(f.t.admin.token, { method: 'GET', url: '/api/session' })).json().csrfToken).toBeNull();
  });
});
