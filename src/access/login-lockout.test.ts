import path from 'node:path';
import pino from 'pino';
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine, TEST_PASSWORD } from '../../test/support/harness.ts';
import { openPostgres, openSqlite } from '../db/connect.ts';
import { buildApp, type App } from '../http/app.ts';
import { openContext } from '../runtime.ts';

describeEachEngine('sign-in lockout', (h) => {
  // A second app on its own connection to the same database: what another `lethe serve` process sees.
  let other: App;
  beforeAll(async () => {
    const store = h.kind === 'sqlite' ? openSqlite(path.join(h.database.dataDir, 'lethe.db')) : openPostgres(h.database.url!, 2);
    const ctx = await openContext(h.ctx.config, { clock: h.clock, store, log: pino({ level: 'silent' }) });
    other = await buildApp(ctx);
    await other.ready();
    return async () => {
      await other.close();
      await store.close();
    };
  });

  const signIn = (app: App, email: string, password: string) => app.inject({ method: 'POST', url: '/api/session', payload: { email, password } });

  it('locks an email after N failed sign-ins, counted across processes, says until when, and opens again after the period', async () => {
    const t = await h.tenant();
    const n = h.ctx.config.loginLockoutFailures;
    for (let i = 1; i < n; i++) expect((await signIn(i % 2 ? h.app : other, t.adminEmail, 'wrong password')).statusCode).toBe(401);
    const locking = await signIn(h.app, t.adminEmail, 'wrong password');
    expect(locking.statusCode).toBe(429);
    expect(locking.headers['content-type']).toContain('application/problem+json');
    expect(locking.headers['retry-after']).toBe(String(h.ctx.config.loginLockoutMinutes * 60));
    const until = new Date(h.clock.now().getTime() + h.ctx.config.loginLockoutMinutes * 60_000).toISOString();
    expect(locking.json().detail).toBe(
      `Email or password is incorrect. After ${n} failed sign-ins, sign-in with this email is locked until ${until.slice(0, 10)} ${until.slice(11, 16)} UTC. Try again in ${h.ctx.config.loginLockoutMinutes} minutes.`,
    );

    // Locked means locked: the right password waits too, in every process.
    h.clock.advance(5 * 60_000);
    for (const app of [h.app, other]) {
      const refused = await signIn(app, t.adminEmail, TEST_PASSWORD);
      expect(refused.statusCode).toBe(429);
      expect(refused.json().detail).toMatch(/^Too many failed sign-ins: sign-in with this email is locked until .* UTC\. Try again in 10 minutes\.$/);
      expect(refused.json().retryAfterSeconds).toBe(600);
      expect(refused.headers['set-cookie']).toBeUndefined();
    }

    h.clock.advance(10 * 60_000);
    expect((await signIn(other, t.adminEmail, TEST_PASSWORD)).statusCode).toBe(200);
  });

  it('locks an unknown email the same way, so the lock tells nothing about who has an account', async () => {
    const n = h.ctx.config.loginLockoutFailures;
    const answers = [];
    for (let i = 0; i < n + 1; i++) answers.push(await signIn(h.app, 'nobody-here@nowhere.example.org', 'wrong password'));
    expect(answers.slice(0, n - 1).map((r) => r.statusCode)).toEqual(Array(n - 1).fill(401));
    expect(answers.slice(n - 1).map((r) => r.statusCode)).toEqual([429, 429]);
    expect(answers[n].json().detail).toMatch(/^Too many failed sign-ins/);
  });

  it("a successful sign-in forgets only its own email's failures, not another account's", async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const n = h.ctx.config.loginLockoutFailures;
    for (let i = 0; i < n - 1; i++) {
      expect((await signIn(h.app, t.adminEmail, 'wrong password')).statusCode).toBe(401);
      expect((await signIn(other, staff.email, 'wrong password')).statusCode).toBe(401);
    }
    expect((await signIn(h.app, t.adminEmail, TEST_PASSWORD)).statusCode).toBe(200);
    // The admin's count starts again; the staff member's does not.
    expect((await signIn(h.app, t.adminEmail, 'wrong password')).statusCode).toBe(401);
    expect((await signIn(h.app, staff.email, 'wrong password')).statusCode).toBe(429);
    expect((await signIn(h.app, staff.email, TEST_PASSWORD)).statusCode).toBe(429);
    h.clock.advance(h.ctx.config.loginLockoutMinutes * 60_000);
  });

  it('stores no email in clear: counters are keyed hashes', async () => {
    const t = await h.tenant();
    await signIn(h.app, t.adminEmail, 'wrong password');
    const rows = await h.ctx.db.selectFrom('rate_limit_counters').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(t.adminEmail);
    expect(dump).not.toContain('127.0.0.1');
    for (const row of rows) expect(row.key).toMatch(/^[0-9a-f]{64}$/);
  });
});
