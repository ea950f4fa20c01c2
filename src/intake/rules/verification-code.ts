import { randomInt, timingSafeEqual } from 'node:crypto';
import { keyedHash } from '../../security/server-secret.ts';

/**
 * Rules for the 6-digit code of application verification. Pure: the caller persists the state
 * each function returns and passes `now` from its Clock. Only the keyed hash of a code is stored;
 * the caller should save an attempt with a conditional update (attempts = n) so parallel guesses
 * cannot share one attempt.
 */

export const CODE_TTL_MINUTES = 15;
export const CODE_TTL_MS = CODE_TTL_MINUTES * 60_000;
/** wrong codes allowed per code sent */
export const MAX_ATTEMPTS = 5;
export const RESEND_MIN_INTERVAL_MS = 60_000;
/** new codes after the first; each resets the attempts, so at most 5 × 4 guesses per verification */
export const MAX_RESENDS = 3;

export function newVerificationCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Bound to one verification, so a code hash is worthless for any other. Key: ServerSecrets.tokenKey. */
export function hashVerificationCode(key: Buffer, code: string, verificationId: string): string {
  return keyedHash(key, `verification-code:${verificationId}:${code}`);
}

export interface VerificationCodeState {
  verificationId: string;
  codeHash: string;
  /** when the current code was sent */
  issuedAt: Date;
  /** wrong codes entered against the current code */
  attempts: number;
  /** codes sent after the first */
  resends: number;
}

export function issueCode(key: Buffer, verificationId: string, code: string, now: Date): VerificationCodeState {
  return { verificationId, codeHash: hashVerificationCode(key, code, verificationId), issuedAt: now, attempts: 0, resends: 0 };
}

function resendsLeft(state: VerificationCodeState): boolean {
  return state.resends < MAX_RESENDS;
}

const contactUs = 'For your security, no more codes can be sent for this application. Please contact us and we will help you.';

export type ResendDecision =
  | { ok: true; state: VerificationCodeState }
  | { ok: false; reason: 'too_soon'; retryAfterMs: number; message: string }
  | { ok: false; reason: 'too_many'; message: string };

/** A new code replaces the old one (which stops working) and restores the attempts. */
export function resendCode(key: Buffer, state: VerificationCodeState, code: string, now: Date): ResendDecision {
  if (!resendsLeft(state)) return { ok: false, reason: 'too_many', message: contactUs };
  const retryAfterMs = state.issuedAt.getTime() + RESEND_MIN_INTERVAL_MS - now.getTime();
  if (retryAfterMs > 0) {
    const seconds = Math.ceil(retryAfterMs / 1000);
    return {
      ok: false,
      reason: 'too_soon',
      retryAfterMs,
      message: `We have just sent you a code. Please check your inbox (and spam folder); you can ask for a new code in ${seconds} second${seconds === 1 ? '' : 's'}.`,
    };
  }
  return {
    ok: true,
    state: { ...issueCode(key, state.verificationId, code, now), resends: state.resends + 1 },
  };
}

export type CodeCheck =
  | { result: 'ok'; state: VerificationCodeState; message: string }
  | { result: 'wrong'; attemptsLeft: number; state: VerificationCodeState; message: string }
  | { result: 'expired' | 'exhausted'; state: VerificationCodeState; message: string };

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

function attemptsLeftMessage(left: number): string {
  return `That code is not correct. You have ${left} attempt${left === 1 ? '' : 's'} left. Check the latest email we sent and try again.`;
}

/**
 * Checks a submitted code. A used-up or expired code stays refused even when the right digits
 * arrive. Input that is not 6 digits (after removing spaces) is a typo, not a guess: it costs no
 * attempt. The last wrong attempt answers 'exhausted' straight away.
 */
export function checkCode(state: VerificationCodeState, submitted: string, now: Date, key: Buffer): CodeCheck {
  const next = resendsLeft(state) ? 'Request a new code to try again.' : contactUs;
  if (state.attempts >= MAX_ATTEMPTS) {
    return { result: 'exhausted', state, message: `Too many incorrect codes: this code no longer works. ${next}` };
  }
  if (now.getTime() - state.issuedAt.getTime() >= CODE_TTL_MS) {
    return { result: 'expired', state, message: `This code has expired (codes are valid for ${CODE_TTL_MINUTES} minutes). ${next}` };
  }
  const code = submitted.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) {
    return {
      result: 'wrong',
      attemptsLeft: MAX_ATTEMPTS - state.attempts,
      state,
      message: 'Enter the 6-digit code from the email we sent you.',
    };
  }
  if (sameHash(hashVerificationCode(key, code, state.verificationId), state.codeHash)) {
    return { result: 'ok', state, message: 'Thank you, your email address is confirmed. Your application will now update your profile.' };
  }
  const counted = { ...state, attempts: state.attempts + 1 };
  const attemptsLeft = MAX_ATTEMPTS - counted.attempts;
  if (attemptsLeft === 0) {
    return { result: 'exhausted', state: counted, message: `That code is not correct, and that was the last attempt for it. ${next}` };
  }
  return { result: 'wrong', attemptsLeft, state: counted, message: attemptsLeftMessage(attemptsLeft) };
}

/** The email carrying the code, sent to the address on the existing profile. */
export function verificationEmail(code: string): { subject: string; text: string } {
  return {
    subject: 'Your verification code',
    text:
      `Someone has applied with details that match your profile. To confirm it is you, enter this code on the application page:\n\n` +
      `    ${code}\n\n` +
      `The code is valid for ${CODE_TTL_MINUTES} minutes. Nothing in your profile changes until it is entered.\n\n` +
      `If you did not apply, you can ignore this email: your profile stays as it is, and do not share this code with anyone. ` +
      `If you share this email address with a family member who is applying, they need to apply with their own email address.`,
  };
}
