import type { AppContext } from '../context.ts';
import { csrfTokenFor, hashSecretToken, newSecretToken } from './secret-tokens.ts';

export interface IssuedSession {
  token: string;
  csrfToken: string;
  expiresAt: string;
}

export async function createSession(ctx: AppContext, userId: string): Promise<IssuedSession> {
  const token = newSecretToken('ls');
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + ctx.config.sessionHours * 3_600_000).toISOString();
  await ctx.db
    .insertInto('sessions')
    .values({ id: hashSecretToken(ctx.secrets.tokenKey, token), user_id: userId, created_at: now.toISOString(), expires_at: expiresAt })
    .execute();
  return { token, csrfToken: csrfTokenFor(ctx.secrets.tokenKey, token), expiresAt };
}

export async function endSession(ctx: AppContext, token: string): Promise<void> {
  await ctx.db.deleteFrom('sessions').where('id', '=', hashSecretToken(ctx.secrets.tokenKey, token)).execute();
}

export async function endAllSessionsOf(ctx: AppContext, userId: string): Promise<void> {
  await ctx.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}
