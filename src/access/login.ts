import type { AppContext } from '../context.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { NO_SITE_ACCESS, Problem } from '../http/problem.ts';
import { actorOf } from './auth.ts';
import { timingDummyHash, verifyPassword } from './passwords.ts';
import { createSession, type IssuedSession } from './sessions.ts';

export const WRONG_CREDENTIALS = 'Email or password is incorrect.';
const anonymous: Actor = { userId: null, label: 'anonymous' };

/**
 * Checks an email and password and opens a session. An unknown email costs the same argon2 work
 * as a wrong password and gets the same answer, so neither timing nor wording reveals who has an
 * account; access switched off is told only to someone who knows the password.
 */
export async function signIn(ctx: AppContext, email: string, password: string): Promise<{ userId: string; session: IssuedSession }> {
  const user = await ctx.db
    .selectFrom('users')
    .select(['id', 'institution_id', 'password_hash', 'site_access'])
    .where('email', '=', email)
    .executeTakeFirst();

  if (!user) {
    await verifyPassword(await timingDummyHash(), password);
    // The email is not recorded: with no user there is no subject key to seal it with.
    await recordAudit(ctx, ctx.db, {
      institutionId: null,
      actor: anonymous,
      action: 'session.login_failed',
      target: { type: 'user', id: null },
      meta: { reason: 'unknown_email' },
    });
    throw new Problem(401, WRONG_CREDENTIALS);
  }

  const failed = async (reason: string) =>
    recordAudit(ctx, ctx.db, {
      institutionId: user.institution_id,
      actor: anonymous,
      action: 'session.login_failed',
      target: { type: 'user', id: user.id },
      subjectId: user.id,
      after: { email },
      meta: { reason },
    });

  if (!(await verifyPassword(user.password_hash, password))) {
    await failed('wrong_password');
    throw new Problem(401, WRONG_CREDENTIALS);
  }
  if (!user.site_access) {
    await failed('no_site_access');
    throw new Problem(403, NO_SITE_ACCESS);
  }

  const session = await ctx.db.transaction().execute(async (trx) => {
    const issued = await createSession(ctx, user.id, trx);
    await recordAudit(ctx, trx, {
      institutionId: user.institution_id,
      actor: actorOf(user.id),
      action: 'session.create',
      target: { type: 'user', id: user.id },
      subjectId: user.id,
      after: { email },
    });
    return issued;
  });
  return { userId: user.id, session };
}
