import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { takeAttempt, type RateLimitRule } from './rate-limits.ts';

/**
 * A route hook counting each request against `rule` for the identity `identityOf` names. Use it as
 * `onRequest` to count every request, or as `preHandler` when the identity needs the parsed body.
 */
export function limitRequests(ctx: AppContext, rule: RateLimitRule, identityOf: (request: FastifyRequest) => string, what?: string) {
  return async (request: FastifyRequest): Promise<void> => takeAttempt(ctx, rule, identityOf(request), what);
}

/** The body's email as the limit's identity: trimmed and lower-cased, so spellings share one counter. */
export function bodyEmail(request: FastifyRequest): string {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : '';
}
