import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { describeEachEngine } from '../../test/support/harness.ts';
import { buildApp, type App } from '../http/app.ts';

/**
 * Limits on public and password-checking endpoints are counted in the database: a second server
 * on the same database (here: a second app) continues the first one's count instead of starting
 * its own, so N servers never allow N times a limit.
 */
describeEachEngine('limits shared by every server on one database', (h) => {
  let second: App;
  beforeAll(async () => {
    second = await buildApp(h.ctx);
  });
  afterAll(async () => {
    await second?.close();
  });
  const alternate = (i: number) => (i % 2 === 0 ? h.app : second);

  it('right-of-access code requests: the API and the page of both servers count together', async () => {
    const slug = `limits-${randomBytes(3).toString('hex')}`;
    await h.tenant(slug);
    const email = 'someone@example.net';
    const viaApi = (app: App) => app.inject({ method: 'POST', url: `/api/public/institutions/${slug}/subject-access/code`, payload: { email } });
    const viaPage = (app: App) =>
      app.inject({ method: 'POST', url: `/exports/my-data/${slug}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `email=${encodeURIComponent(email)}` });
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) answers.push((await (i % 3 === 2 ? viaPage : viaApi)(alternate(i))).statusCode);
    expect(answers.slice(0, 5).every((s) => s !== 429)).toBe(true);
    expect(answers[5]).toBe(429);
    // Another address is counted apart.
    expect((await h.app.inject({ method: 'POST', url: `/api/public/institutions/${slug}/subject-access/code`, payload: { email: 'other@example.net' } })).statusCode).not.toBe(429);
  });

  it('own-account changes, which check the current password: one count per user across servers', async () => {
    const t = await h.tenant();
    const max = h.ctx.config.loginRateLimit;
    const change = (app: App, i: number): InjectOptions => ({ method: 'PATCH', url: '/api/me', headers: { authorization: `Bearer ${t.admin.token}` }, payload: { name: `Admin ${i}` } });
    for (let i = 0; i < max; i++) expect((await alternate(i).inject(change(alternate(i), i))).statusCode).toBe(200);
    const refused = await second.inject(change(second, max));
    expect(refused.statusCode).toBe(429);
    expect(refused.json().detail).toMatch(/account changes/i);
  });

  it('workflow pages: one count per client address across servers', async () => {
    let last = 0;
    let sent = 0;
    for (; sent < 70 && last !== 429; sent++) last = (await alternate(sent).inject({ method: 'GET', url: '/p/opt-in/not-a-token' })).statusCode;
    expect(last).toBe(429);
    expect(sent).toBe(61);
  });
});
