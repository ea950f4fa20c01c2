import { expect, it } from 'vitest';
import { describeEachEngine, TEST_PASSWORD } from '../../test/support/harness.ts';
import { signIn } from '../../test/support/sessions.ts';
import { listAudit } from '../audit/audit-log.ts';

describeEachEngine('sign-in and sessions', (h) => {
  it('signs in with the session cookie flags, returns the user and a CSRF token, and audits it with the email sealed', async () => {
    const t = await h.tenant();
    const res = await h.request(null, { method: 'POST', url: '/api/session', payload: { email: `  ${t.adminEmail.toUpperCase()} `, password: TEST_PASSWORD } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.user).toMatchObject({ id: t.adminUserId, email: t.adminEmail, institutionId: t.institutionId, role: { key: 'admin' } });
    expect(body.user.permissions).toContain('users.manage');
    expect(body.csrfToken).toMatch(/^[0-9a-f]{64}$/);

    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^lethe_session=ls_/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Secure'); // plain http with LETHE_COOKIE_SECURE=auto

    const cookie = res.cookies.find((c) => c.name === 'lethe_session')!.value;
    const again = await h.app.inject({ method: 'GET', url: '/api/session', cookies: { lethe_session: cookie } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(body);

    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'session.create', limit: 1 });
    expect(entry).toMatchObject({ actorUserId: t.adminUserId, targetId: t.adminUserId, after: { email: t.adminEmail } });
    const raw = await h.ctx.db.selectFrom('audit_log').select('after_enc').where('action', '=', 'session.create').where('chain', '=', t.institutionId).execute();
    expect(raw.map((r) => r.after_enc).join()).not.toContain(t.adminEmail);
  });

  it('marks the cookie Secure when LETHE_COOKIE_SECURE=true', async () => {
    const t = await h.tenant();
    h.ctx.config.cookieSecure = 'true';
    try {
      const res = await h.request(null, { method: 'POST', url: '/api/session', payload: { email: t.adminEmail, password: TEST_PASSWORD } });
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['set-cookie'])).toContain('Secure');
    } finally {
      h.ctx.config.cookieSecure = 'auto';
    }
  });

  it('refuses a wrong password and an unknown email with the same message, audits both, and opens no session', async () => {
    const t = await h.tenant();
    const sessionsBefore = await h.count('sessions');
    const wrong = await h.request(null, { method: 'POST', url: '/api/session', payload: { email: t.adminEmail, password: 'not the password!' } });
    const unknown = await h.request(null, { method: 'POST', url: '/api/session', payload: { email: 'nobody@nowhere.example.org', password: 'not the password!' } });
    for (const res of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().detail).toBe('Email or password is incorrect.');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(await h.count('sessions')).toBe(sessionsBefore);
    const [failed] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'session.login_failed', limit: 5 });
    expect(failed).toMatchObject({ targetId: t.adminUserId, meta: { reason: 'wrong_password' }, after: { email: t.adminEmail } });
    const [anon] = await listAudit(h.ctx, { institutionId: null, action: 'session.login_failed', limit: 1 });
    expect(anon).toMatchObject({ targetId: null, meta: { reason: 'unknown_email' }, after: null });
  });

  it('tells a switched-off user exactly "You do not have access to this site." at sign-in and on every API request', async () => {
    const t = await h.tenant();
    const employer = await h.user(t, 'employer_user');
    const off = await h.request(t.admin.token, { method: 'POST', url: `/api/users/${employer.id}/access`, payload: { enabled: false } });
    expect(off.statusCode).toBe(200);
    expect(off.json().siteAccess).toBe(false);

    const login = await h.request(null, { method: 'POST', url: '/api/session', payload: { email: employer.email, password: TEST_PASSWORD } });
    expect(login.statusCode).toBe(403);
    expect(login.json().detail).toBe('You do not have access to this site.');
    // Only someone who knows the password learns that the account exists.
    const guess = await h.request(null, { method: 'POST', url: '/api/session', payload: { email: employer.email, password: 'a wrong password' } });
    expect(guess.statusCode).toBe(401);

    const api = await h.request(employer.token, { method: 'GET', url: '/api/me' });
    expect(api.statusCode).toBe(403);
    expect(api.json().detail).toBe('You do not have access to this site.');

    const on = await h.request(t.admin.token, { method: 'POST', url: `/api/users/${employer.id}/access`, payload: { enabled: true } });
    expect(on.json().siteAccess).toBe(true);
    expect((await h.request(null, { method: 'POST', url: '/api/session', payload: { email: employer.email, password: TEST_PASSWORD } })).statusCode).toBe(200);
  });

  it('switching access off ends the sessions the user already had', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const session = await signIn(h, staff.email);
    expect((await session.request({ method: 'GET', url: '/api/me' })).statusCode).toBe(200);
    await h.request(t.admin.token, { method: 'POST', url: `/api/users/${staff.id}/access`, payload: { enabled: false } });
    expect(await h.ctx.db.selectFrom('sessions').select('id').where('user_id', '=', staff.id).execute()).toEqual([]);
    expect((await session.request({ method: 'GET', url: '/api/me' })).statusCode).toBe(401);
  });

  it('refuses a change made with the session cookie but without the X-CSRF-Token header', async () => {
    const t = await h.tenant();
    const session = await signIn(h, t.adminEmail);
    const tokensBefore = await h.count('api_tokens');
    const refused = await session.request({ method: 'POST', url: '/api/tokens', payload: { name: 'laptop' } }, { csrf: false });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toContain('X-CSRF-Token');
    const forged = await session.request({ method: 'POST', url: '/api/tokens', payload: { name: 'laptop' }, headers: { 'x-csrf-token': 'f'.repeat(64) } }, { csrf: false });
    expect(forged.statusCode).toBe(403);
    expect(await h.count('api_tokens')).toBe(tokensBefore);
    const allowed = await session.request({ method: 'POST', url: '/api/tokens', payload: { name: 'laptop' } });
    expect(allowed.statusCode).toBe(201);
  });

  it('rate-limits sign-in attempts per address and email with a 429 problem', async () => {
    const t = await h.tenant();
    const max = h.ctx.config.loginRateLimit;
    // Attempts are limited whether they succeed or not; the lockout on failures is tested in login-lockout.test.ts.
    const attempt = (email: string) => h.request(null, { method: 'POST', url: '/api/session', payload: { email, password: TEST_PASSWORD } });
    for (let i = 0; i < max; i++) expect((await attempt(t.adminEmail)).statusCode).toBe(200);
    const limited = await attempt(t.adminEmail);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });
    expect(limited.json().detail).toMatch(/wait \d+ seconds/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another account from the same address is not limited.
    const other = await h.user(t, 'staff');
    expect((await attempt(other.email)).statusCode).toBe(200);
    // The window is on the injected clock: a minute later the address may try again.
    h.clock.advance(60_000);
    expect((await attempt(t.adminEmail)).statusCode).toBe(200);
  });

  it('signs out: the cookie is cleared and the old cookie no longer works', async () => {
    const t = await h.tenant();
    const session = await signIn(h, t.adminEmail);
    const out = await session.request({ method: 'DELETE', url: '/api/session' });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/lethe_session=;/);
    const after = await session.request({ method: 'GET', url: '/api/session' });
    expect(after.statusCode).toBe(401);
    expect((await h.request(null, { method: 'GET', url: '/api/session' })).statusCode).toBe(401);
  });

  it('describes a token caller without a CSRF token', async () => {
    const t = await h.tenant();
    const res = await h.request(t.admin.token, { method: 'GET', url: '/api/session' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ user: { id: t.adminUserId }, csrfToken: null });
  });

  it('rejects malformed sign-in input with field errors and opens nothing', async () => {
    const sessionsBefore = await h.count('sessions');
    const res = await h.request(null, { method: 'POST', url: '/api/session', payload: { email: 'not-an-email', password: '' } });
    expect(res.statusCode).toBe(400);
    const fields = res.json().errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['email', 'password']));
    expect(await h.count('sessions')).toBe(sessionsBefore);
  });

  it('never writes a password, an email or a session secret to the logs', async () => {
    const t = await h.tenant();
    const session = await signIn(h, t.adminEmail);
    await h.request(null, { method: 'POST', url: '/api/session', payload: { email: t.adminEmail, password: 'wrong password here' } });
    await session.request({ method: 'PATCH', url: '/api/me', payload: { currentPassword: TEST_PASSWORD, newPassword: 'a brand new passphrase' } });
    const logs = h.logLines.join('\n');
    expect(h.logLines.length).toBeGreaterThan(0);
    for (const secret of [TEST_PASSWORD, 'wrong password here', 'a brand new passphrase', t.adminEmail, session.cookie, session.csrfToken]) {
      expect(logs).not.toContain(secret);
    }
  });
});
