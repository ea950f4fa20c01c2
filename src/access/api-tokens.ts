import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { newId } from '../ids.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { notFound } from '../http/problem.ts';
import { hashSecretToken, newSecretToken } from './secret-tokens.ts';

export const createTokenSchema = z.object({ name: z.string().trim().min(1).max(100) });

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
