/**
 * The rules of the one-time codes a contact uses to open their own profile, as plain functions.
 * A code is short-lived, dies after a few wrong tries, works once, and an address gets only a few
 * per hour (beyond that nothing is sent, with the same answer, so the limit reveals nothing).
 */
export const CODE_DIGITS = 6;
export const CODE_TTL_MS = 10 * 60_000;
export const MAX_CODE_ATTEMPTS = 5;
export const MAX_CODES_PER_HOUR = 5;
export const SESSION_TTL_MS = 15 * 60_000;

export interface StoredCode {
  expires_at: string;
  consumed_at: string | null;
  attempts: number;
}

export type CodeState = 'usable' | 'expired' | 'used' | 'locked';

export function codeState(code: StoredCode, now: Date): CodeState {
  if (code.consumed_at !== null) return 'used';
  if (code.attempts >= MAX_CODE_ATTEMPTS) return 'locked';
  if (Date.parse(code.expires_at) <= now.getTime()) return 'expired';
  return 'usable';
}

/** Whether another code may be sent, given how many were issued in the last hour. */
export function mayIssueCode(issuedInLastHour: number): boolean {
  return issuedInLastHour < MAX_CODES_PER_HOUR;
}

/** What a person typed, reduced to the digits ("123 456" and "123-456" are the code 123456), or null. */
export function typedCode(raw: string): string | null {
  const digits = raw.replace(/[\s-]/g, '');
  return new RegExp(`^\\d{${CODE_DIGITS}}$`).test(digits) ? digits : null;
}
