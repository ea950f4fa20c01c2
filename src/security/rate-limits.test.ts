import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { clearCounter, countHit, lockedUntil, takeAttempt, TooManyRequests, type RateLimitRule } from './rate-limits.ts';

describeEachEngine('database rate limits', (h) => {
  const rule: RateLimitRule = { scope: 'test.window', max: 3, windowMs: 60_000 };

  it('counts parallel hits exactly once each (one atomic upsert per hit)', async () => {
    const counters = await Promise.all(Array.from({ length: 25 }, () => countHit(h.ctx, rule, 'parallel')));
    expect(counters.map((c) => c.hits).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('refuses past max with the seconds left in the window, and restarts the window on the clock', async () => {
    for (let i = 0; i < rule.max; i++) await takeAttempt(h.ctx, rule, 'window');
    h.clock.advance(20_000);
    const refused = await takeAttempt(h.ctx, rule, 'window').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyRequests);
    expect((refused as TooManyRequests).retryAfterSeconds).toBe(40);
    expect((refused as TooManyRequests).toBody()).toMatchObject({ status: 429, detail: 'Too many attempts; wait 40 seconds and try again.', retryAfterSeconds: 40 });
    // Another identity has its own counter.
    await expect(takeAttempt(h.ctx, rule, 'someone else')).resolves.toBeUndefined();
    h.clock.advance(40_000);
    await expect(takeAttempt(h.ctx, rule, 'window')).resolves.toBeUndefined();
    // A clock set back (a corrected host clock) restarts the window rather than locking for longer.
    h.clock.advance(-3_600_000);
    expect((await countHit(h.ctx, rule, 'window')).hits).toBe(1);
    h.clock.advance(3_600_000);
  });

  it('locks a lockout key when the limit is reached, until the period ends; clearing forgets only that key', async () => {
    const lockout: RateLimitRule = { scope: 'test.lockout', max: 2, windowMs: 600_000, lockMs: 900_000 };
    expect((await countHit(h.ctx, lockout, 'a')).lockedUntil).toBeNull();
    await countHit(h.ctx, lockout, 'b');
    const locked = await countHit(h.ctx, lockout, 'a');
    expect(locked.lockedUntil).toBe(new Date(h.clock.now().getTime() + 900_000).toISOString());
    expect(await lockedUntil(h.ctx, lockout, 'a')).toBe(locked.lockedUntil);
    expect(await lockedUntil(h.ctx, lockout, 'b')).toBeNull();
    await clearCounter(h.ctx, lockout, 'b');
    expect(await lockedUntil(h.ctx, lockout, 'a')).toBe(locked.lockedUntil);
    h.clock.advance(900_000);
    expect(await lockedUntil(h.ctx, lockout, 'a')).toBeNull();
    // After the lock the count starts again.
    expect(await countHit(h.ctx, lockout, 'a')).toMatchObject({ hits: 1, lockedUntil: null });
  });

  it('purges counters whose window and lock have passed', async () => {
    const short: RateLimitRule = { scope: 'test.purge', max: 1, windowMs: 1_000 };
    await countHit(h.ctx, short, 'old');
    const before = await h.count('rate_limit_counters');
    h.clock.advance(3_600_000);
    await countHit(h.ctx, short, 'new');
    const scopes = await h.ctx.db.selectFrom('rate_limit_counters').select('scope').execute();
    expect(scopes.length).toBeLessThan(before + 1);
    expect(scopes.map((s) => s.scope)).toEqual(['test.purge']);
  });
});
