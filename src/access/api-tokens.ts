import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { newId } from '../ids.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { notFound } from '../http/problem.ts';
import { hashSecretToken, newSecretToken } from './secret-tokens.ts';

export const createTokenSchema = z.object({ name: z.string().trim().min(1, 'must not be empty').max(100) });

export interface IssuedToken {
  id: string;
  token: string;
  prefix: string;
}

/** Issues an API token for a user, scoped to the user's institution. The secret is returned once. */
export async function issueApiToken(
  ctx: AppContext,
  input: { institutionId: string; userId: string; name: string },
  actor: Actor,
): Promise<IssuedToken> {
  const { name } = createTokenSchema.parse({ name: input.name });
  const user = await ctx.db
    .selectFrom('users')
    .select('id')
    .where('id', '=', input.userId)
    .where('institution_id', '=', input.institutionId)
    .executeTakeFirst();
  if (!user) throw notFound('User');
  const token = newSecretToken('lt');
  const id = newId();
  const prefix = token.slice(0, 10);
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('api_tokens')
      .values({
        id,
        institution_id: input.institutionId,
        user_id: input.userId,
        name,
        token_hash: hashSecretToken(ctx.secrets.tokenKey, token),
        prefix,
        created_at: ctx.clock.now().toISOString(),
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    await recordAudit(ctx, trx, {
      institutionId: input.institutionId,
      actor,
      action: 'token.create',
      target: { type: 'api_token', id },
      after: { name, userId: input.userId, prefix },
    });
  });
  return { id, token, prefix };
}

export async function revokeApiToken(ctx: AppContext, institutionId: string, tokenId: string, actor: Actor): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('api_tokens')
      .select(['id', 'revoked_at', 'name'])
      .where('id', '=', tokenId)
      .where('institution_id', '=', institutionId)
      .executeTakeFirst();
    if (!row) throw notFound('API token');
    if (row.revoked_at) return;
    await trx.updateTable('api_tokens').set({ revoked_at: ctx.clock.now().toISOString() }).where('id', '=', tokenId).execute();
    await recordAudit(ctx, trx, { institutionId, actor, action: 'token.revoke', target: { type: 'api_token', id: tokenId }, before: { name: row.name } });
  });
}

export const tokenView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('the first characters of the secret, to recognise it'),
  userId: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenView = z.infer<typeof tokenView>;

function selectTokens(ctx: AppContext, institutionId: string) {
  // Never the hash: a listing must not help anyone test guesses offline.
  return ctx.db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'prefix', 'user_id', 'created_at', 'last_used_at', 'revoked_at'])
    .where('institution_id', '=', institutionId);
}

type TokenRow = Awaited<ReturnType<ReturnType<typeof selectTokens>['executeTakeFirstOrThrow']>>;
const toView = (r: TokenRow): TokenView => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  userId: r.user_id,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export async function getApiToken(ctx: AppContext, institutionId: string, tokenId: string): Promise<TokenView> {
  const row = await selectTokens(ctx, institutionId).where('id', '=', tokenId).executeTakeFirst();
  if (!row) throw notFound('API token');
  return toView(row);
}

export async function listApiTokens(
  ctx: AppContext,
  institutionId: string,
  opts: { userId?: string; after?: string; limit: number },
): Promise<{ items: TokenView[]; nextCursor: string | null }> {
  let q = selectTokens(ctx, institutionId);
  if (opts.userId) q = q.where('user_id', '=', opts.userId);
  if (opts.after) q = q.where('id', '>', opts.after);
  const rows = await q.orderBy('id').limit(opts.limit + 1).execute();
  const items = rows.slice(0, opts.limit).map(toView);
  return { items, nextCursor: rows.length > opts.limit ? items[items.length - 1].id : null };
}
