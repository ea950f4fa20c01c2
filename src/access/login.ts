import type { AppContext } from '../context.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { NO_SITE_ACCESS, Problem } from '../http/problem.ts';
import { rateLimitRules } from '../security/rate-limit-rules.ts';
import { clearCounter, countHit, lockedUntil, secondsUntil, TooManyRequests, waitInWords } from '../security/rate-limits.ts';
import { actorOf } from './auth.ts';
import { timingDummyHash, verifyPassword } from './passwords.ts';
import { createSession, type IssuedSession } from './sessions.ts';

export const WRONG_CREDENTIALS = 'Email or password is incorrect.';
const anonymous: Actor = { userId: null, label: 'anonymous' };

/** Says when sign-in opens again, as a time and as a wait. */
function lockedOut(ctx: AppContext, until: string, failures: number, justNow: boolean): TooManyRequests {
  const wait = secondsUntil(ctx, until);
  const at = `${until.slice(0, 10)} ${until.slice(11, 16)} UTC`;
  const cause = justNow ? `Email or password is incorrect. After ${failures} failed sign-ins, sign-in` : 'Too many failed sign-ins: sign-in';
  return new TooManyRequests(`${cause} with this email is locked until ${at}. Try again in ${waitInWords(wait)}.`, wait);
}

/**
 * Checks an email and password and opens a session. An unknown email costs the same argon2 work
 * as a wrong password and gets the same answer, so neither timing nor wording reveals who has an
 * account; access switched off is told only to someone who knows the password.
 */
export async function signIn(ctx: AppContext, email: string, password: string): Promise<{ userId: string; session: IssuedSession }> {
  // Lockout is per email, known or not, so being locked reveals nothing about who has an account.
  const lockout = rateLimitRules(ctx.config).loginFailures;
  const locked = await lockedUntil(ctx, lockout, email);
  if (locked) throw lockedOut(ctx, locked, lockout.max, false);
  const wrongCredentials = async (): Promise<Problem> => {
    const counter = await countHit(ctx, lockout, email);
    return counter.lockedUntil && counter.lockedUntil > ctx.clock.now().toISOString() ? lockedOut(ctx, counter.lockedUntil, lockout.max, true) : new Problem(401, WRONG_CREDENTIALS);
  };

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
    throw await wrongCredentials();
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
    throw await wrongCredentials();
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
  // Only this email's failures are forgotten: counters of other emails and of client addresses stay.
  await clearCounter(ctx, lockout, email);
  return { userId: user.id, session };
}
