import { keyedHash } from '../security/server-secret.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { invalidField, Problem } from './problem.ts';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Stored responses are kept this long; a retry after that creates anew. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export interface CreatedResponse<T> {
  status: number;
  body: T;
  /** id of what was created; erasing that resource erases the stored response too */
  resourceId?: string | null;
}

/**
 * Honours an Idempotency-Key header on a create endpoint: the first request runs and its response
 * is stored; a retry with the same key and body gets the same response without creating again;
 * the same key with a different body is refused.
 */
export async function idempotent<T>(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  create: () => Promise<CreatedResponse<T>>,
): Promise<T> {
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) {
    const result = await create();
    reply.code(result.status);
    return result.body;
  }
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (!key || key.length > 200 || !/^[\x21-\x7e]+$/.test(key)) {
    throw invalidField('headers.idempotency-key', 'must be 1 to 200 visible ASCII characters, e.g. a UUID');
  }
  const auth = request.auth;
  const scope = `${auth?.institutionId ?? '-'}:${auth?.user.id ?? 'anonymous'}:${request.method} ${request.routeOptions.url}`;
  // Keyed: bodies hold passwords, emails and SSNs, which a plain hash would let a database reader brute-force.
  const requestHash = keyedHash(ctx.secrets.tokenKey, JSON.stringify(request.body ?? null));
  const now = ctx.clock.now();

  await ctx.db
    .deleteFrom('idempotency_keys')
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('created_at', '<', new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString())
    .execute();
  const claimed = await ctx.db
    .insertInto('idempotency_keys')
    .values({ scope, key, request_hash: requestHash, status_code: 0, resource_id: null, response_body: '', created_at: now.toISOString() })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .executeTakeFirst();

  if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) {
    const stored = await ctx.db.selectFrom('idempotency_keys').selectAll().where('scope', '=', scope).where('key', '=', key).executeTakeFirstOrThrow();
    if (stored.request_hash !== requestHash) {
      throw new Problem(422, 'This Idempotency-Key was already used for a different request; use a new key for a new request.', [
        { field: 'headers.idempotency-key', message: 'was used with a different body' },
      ]);
    }
    if (stored.status_code === 0) throw new Problem(409, 'A request with this Idempotency-Key is still being processed; retry in a moment.');
    reply.code(stored.status_code).header('idempotent-replayed', 'true');
    return JSON.parse(stored.response_body) as T;
  }

  try {
    const result = await create();
    await ctx.db
      .updateTable('idempotency_keys')
      .set({ status_code: result.status, response_body: JSON.stringify(result.body), resource_id: result.resourceId ?? null })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
    reply.code(result.status);
    return result.body;
  } catch (error) {
    // A failed request leaves no claim, so the client may retry it with the same key.
    await ctx.db.deleteFrom('idempotency_keys').where('scope', '=', scope).where('key', '=', key).execute();
    throw error;
  }
}
