import type { Config } from '../config.ts';
import type { RateLimitRule } from './rate-limits.ts';

const MINUTE = 60_000;

/**
 * Every database-backed limit in one table (docs/operations.md, "Rate limits and lockout", mirrors
 * it). The comment on each says what its identity is: the key is a keyed hash of scope + identity.
 */
export function rateLimitRules(config: Config) {
  const lockMs = config.loginLockoutMinutes * MINUTE;
  return {
    /** client address + email: sign-in attempts, right or wrong */
    loginAttempts: { scope: 'login.attempt', max: config.loginRateLimit, windowMs: MINUTE },
    /** email (known or not): failed sign-ins; reaching the limit locks the email for the period */
    loginFailures: { scope: 'login.failure', max: config.loginLockoutFailures, windowMs: lockMs, lockMs },
    /** client address + form: applications */
    apply: { scope: 'apply', max: config.applyRateLimit, windowMs: MINUTE },
    /** client address + verification: application codes entered */
    applicationCode: { scope: 'apply.code', max: 10, windowMs: MINUTE },
    /** client address + verification: new application codes asked for */
    applicationCodeResend: { scope: 'apply.resend', max: 5, windowMs: MINUTE },
    /** client address + email: self-service codes asked for */
    profileCodeRequest: { scope: 'profile.code', max: 5, windowMs: 15 * MINUTE },
    /** client address + email: self-service codes entered */
    profileCodeCheck: { scope: 'profile.session', max: 10, windowMs: 15 * MINUTE },
    /** client address: self-service magic links opened */
    profileLink: { scope: 'profile.link', max: 10, windowMs: 15 * MINUTE },
    /** client address + email: right-of-access codes asked for (the API and the page count together) */
    subjectAccessCode: { scope: 'subject-access.code', max: 5, windowMs: 15 * MINUTE },
    /** client address: right-of-access codes entered (API and page together) */
    subjectAccessConfirm: { scope: 'subject-access.confirm', max: 20, windowMs: 15 * MINUTE },
    /** signed-in user: changes to their own account, which check the current password */
    accountChange: { scope: 'account.change', max: config.loginRateLimit, windowMs: MINUTE },
    /** client address: workflow link, unsubscribe and consent pages opened or posted */
    workflowPages: { scope: 'workflow.page', max: 60, windowMs: MINUTE },
  } satisfies Record<string, RateLimitRule>;
}
