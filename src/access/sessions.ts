import type { AppContext, Db } from '../context.ts';
import { csrfTokenFor, hashSecretToken, newSecretToken } from './secret-tokens.ts';

export interface IssuedSession {
  token: string;
  csrfToken: string;
  expiresAt: string;
}

/** `db` lets sign-in write the session and its audit entry in one transaction. */
export async function createSession(ctx: AppContext, userId: string, db: Db = ctx.db): Promise<IssuedSession> {
  const token = newSecretToken('ls');
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + ctx.config.sessionHours * 3_600_000).toISOString();
  // Expired sessions of this user are swept here, so the table does not grow with every sign-in.
  await db.deleteFrom('sessions').where('user_id', '=', userId).where('expires_at', '<=', now.toISOString()).execute();
  await db
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

/** After a password change: every other device must sign in again with the new password. */
export async function endOtherSessionsOf(ctx: AppContext, db: Db, userId: string, keepToken?: string): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepToken) q = q.where('id', '!=', hashSecretToken(ctx.secrets.tokenKey, keepToken));
  await q.execute();
}
