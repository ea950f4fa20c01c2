import { sql } from 'kysely';
import type { AppContext } from '../context.ts';
import { Problem, type ProblemBody } from '../http/problem.ts';
import { keyedHash } from './server-secret.ts';

/**
 * Rate limits kept in the database (`rate_limit_counters`), so every `serve` process on one
 * database counts the same hits and a restart forgets nothing. Each counter is a fixed window
 * moved by one atomic upsert (SQLite and PostgreSQL alike); time is the context's clock. What is
 * counted (an address, an email) is stored only as a keyed hash.
 */
export interface RateLimitRule {
  /** names the counter family: part of the hashed key and kept in clear beside it */
  scope: string;
  /** hits allowed in one window */
  max: number;
  windowMs: number;
  /** lockout rules only: the hit that reaches `max` locks the key for this long */
  lockMs?: number;
}

/** 429 problem+json; the error handler adds the Retry-After header from `retryAfterSeconds`. */
export class TooManyRequests extends Problem {
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, detail);
  }

  override toBody(): ProblemBody & { retryAfterSeconds: number } {
    return { ...super.toBody(), retryAfterSeconds: this.retryAfterSeconds };
  }
}

export interface CounterState {
  hits: number;
  windowStart: string;
  lockedUntil: string | null;
}

const PURGE_EVERY_MS = 60_000;
const lastPurge = new WeakMap<AppContext, number>();

function counterKey(ctx: AppContext, rule: RateLimitRule, identity: string): string {
  return keyedHash(ctx.secrets.piiHashKey, `rate-limit:${rule.scope}:${identity}`);
}

export function secondsUntil(ctx: AppContext, iso: string): number {
  return Math.max(1, Math.ceil((new Date(iso).getTime() - ctx.clock.now().getTime()) / 1000));
}

/** "4 minutes" / "30 seconds": how long a person waits, in words. */
export function waitInWords(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * Counts one hit for `identity` and returns the counter after it. The window restarts when it has
 * passed, when the clock went back, or when a lock has ended; on a lockout rule the hit that
 * reaches `max` sets `locked_until`. One statement, so parallel hits from several processes are
 * each counted once.
 */
export async function countHit(ctx: AppContext, rule: RateLimitRule, identity: string): Promise<CounterState> {
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  const windowCutoff = new Date(now.getTime() - rule.windowMs).toISOString();
  const lockEnd = rule.lockMs ? new Date(now.getTime() + rule.lockMs).toISOString() : null;
  const expiresAt = new Date(now.getTime() + Math.max(rule.windowMs, rule.lockMs ?? 0)).toISOString();

  const restart = sql<boolean>`(rate_limit_counters.window_start <= ${windowCutoff} or rate_limit_counters.window_start > ${nowIso} or rate_limit_counters.locked_until <= ${nowIso})`;
  const hits = sql<number>`case when ${restart} then 1 else rate_limit_counters.hits + 1 end`;
  const lockedUntil = lockEnd
    ? sql<string | null>`case when ${hits} >= ${rule.max} then ${lockEnd} when ${restart} then null else rate_limit_counters.locked_until end`
    : sql<string | null>`case when ${restart} then null else rate_limit_counters.locked_until end`;

  const row = await ctx.db
    .insertInto('rate_limit_counters')
    .values({
      key: counterKey(ctx, rule, identity),
      scope: rule.scope,
      window_start: nowIso,
      hits: 1,
      locked_until: lockEnd && rule.max <= 1 ? lockEnd : null,
      expires_at: expiresAt,
    })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        hits,
        window_start: sql<string>`case when ${restart} then ${nowIso} else rate_limit_counters.window_start end`,
        locked_until: lockedUntil,
        expires_at: expiresAt,
      }),
    )
    .returning(['hits', 'window_start', 'locked_until'])
    .executeTakeFirstOrThrow();
  await purgeExpiredNow(ctx);
  return { hits: Number(row.hits), windowStart: row.window_start, lockedUntil: row.locked_until };
}

/** Counts an attempt and refuses it (429) once more than `max` were made in the window. */
export async function takeAttempt(ctx: AppContext, rule: RateLimitRule, identity: string, what = 'attempts'): Promise<void> {
  const state = await countHit(ctx, rule, identity);
  if (state.hits <= rule.max) return;
  const windowEnd = new Date(new Date(state.windowStart).getTime() + rule.windowMs).toISOString();
  const wait = secondsUntil(ctx, windowEnd);
  throw new TooManyRequests(`Too many ${what}; wait ${waitInWords(wait)} and try again.`, wait);
}

/** The end of the key's lock when it is locked now, else null. Reads only. */
export async function lockedUntil(ctx: AppContext, rule: RateLimitRule, identity: string): Promise<string | null> {
  const row = await ctx.db.selectFrom('rate_limit_counters').select('locked_until').where('key', '=', counterKey(ctx, rule, identity)).executeTakeFirst();
  const until = row?.locked_until ?? null;
  return until && until > ctx.clock.now().toISOString() ? until : null;
}

/** Forgets one key's counter (and lock); no other key is touched. */
export async function clearCounter(ctx: AppContext, rule: RateLimitRule, identity: string): Promise<void> {
  await ctx.db.deleteFrom('rate_limit_counters').where('key', '=', counterKey(ctx, rule, identity)).execute();
}

/** Deletes counters whose window and lock have passed, at most once a minute per process. */
async function purgeExpiredNow(ctx: AppContext): Promise<void> {
  const now = ctx.clock.now().getTime();
  const last = lastPurge.get(ctx);
  if (last !== undefined && now - last < PURGE_EVERY_MS && now >= last) return;
  lastPurge.set(ctx, now);
  await ctx.db.deleteFrom('rate_limit_counters').where('expires_at', '<', new Date(now).toISOString()).execute();
}
