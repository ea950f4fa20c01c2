import { describe, it, expect } from 'vitest';
import {
  CODE_TTL_MS,
  MAX_ATTEMPTS,
  MAX_RESENDS,
  RESEND_MIN_INTERVAL_MS,
  checkCode,
  hashVerificationCode,
  issueCode,
  newVerificationCode,
  resendCode,
  verificationEmail,
  type VerificationCodeState,
} from './verification.ts';

const key = Buffer.alloc(32, 3);
const t0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const fresh = () => issueCode(key, 'ver-1', '042917', t0);

describe('codes', () => {
  it('are six digits from a uniform draw, leading zeros kept', () => {
    const codes = Array.from({ length: 500 }, newVerificationCode);
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    expect(new Set(codes).size).toBeGreaterThan(490);
  });

  it('are stored as a keyed hash bound to the verification', () => {
    const state = fresh();
    expect(state).toEqual({ verificationId: 'ver-1', codeHash: hashVerificationCode(key, '042917', 'ver-1'), issuedAt: t0, attempts: 0, resends: 0 });
    expect(state.codeHash).not.toContain('042917');
    expect(hashVerificationCode(key, '042917', 'ver-2')).not.toBe(state.codeHash);
    expect(hashVerificationCode(Buffer.alloc(32, 4), '042917', 'ver-1')).not.toBe(state.codeHash);
  });

  it('rules: 15 minutes, 5 attempts, throttled resends', () => {
    expect([CODE_TTL_MS, MAX_ATTEMPTS, RESEND_MIN_INTERVAL_MS, MAX_RESENDS]).toEqual([15 * 60_000, 5, 60_000, 3]);
  });
});

describe('checkCode over time', () => {
  it('accepts the right code, with spaces, until just before 15 minutes', () => {
    expect(checkCode(fresh(), '042917', t0, key).result).toBe('ok');
    expect(checkCode(fresh(), ' 042 917 ', at(CODE_TTL_MS - 1), key)).toMatchObject({ result: 'ok', message: expect.stringContaining('confirmed') });
  });

  it('refuses the right code once 15 minutes have passed, and says what to do', () => {
    const check = checkCode(fresh(), '042917', at(CODE_TTL_MS), key);
    expect(check).toMatchObject({ result: 'expired', message: expect.stringMatching(/expired.*15 minutes.*Request a new code/) });
  });

  it('counts wrong codes and tells how many attempts remain', () => {
    let state: VerificationCodeState = fresh();
    const lefts: number[] = [];
    for (let i = 0; i < MAX_ATTEMPTS - 1; i++) {
      const check = checkCode(state, '111111', at(i * 1000), key);
      expect(check.result).toBe('wrong');
      if (check.result === 'wrong') lefts.push(check.attemptsLeft);
      state = check.state;
    }
    expect(lefts).toEqual([4, 3, 2, 1]);
    expect(checkCode(fresh(), '111111', t0, key).message).toBe(
      'That code is not correct. You have 4 attempts left. Check the latest email we sent and try again.',
    );
    expect(checkCode(state, '222222', t0, key).message).toMatch(/last attempt/);
  });

  it('the fifth wrong code exhausts it, and then even the right code is refused', () => {
    let state: VerificationCodeState = fresh();
    for (let i = 0; i < MAX_ATTEMPTS; i++) state = checkCode(state, '111111', t0, key).state;
    expect(state.attempts).toBe(MAX_ATTEMPTS);
    expect(checkCode(state, '042917', t0, key)).toMatchObject({ result: 'exhausted', message: expect.stringMatching(/Request a new code/) });
  });

  it('a typo that is not 6 digits costs no attempt', () => {
    const check = checkCode(fresh(), '04291', t0, key);
    expect(check).toMatchObject({ result: 'wrong', attemptsLeft: MAX_ATTEMPTS, message: 'Enter the 6-digit code from the email we sent you.' });
    expect(check.state.attempts).toBe(0);
  });

  it('once resends are used up, expiry and exhaustion direct the applicant to contact the institution', () => {
    const spent = { ...fresh(), resends: MAX_RESENDS };
    expect(checkCode(spent, '042917', at(CODE_TTL_MS), key).message).toMatch(/contact us/);
    expect(checkCode({ ...spent, attempts: MAX_ATTEMPTS }, '042917', t0, key).message).toMatch(/contact us/);
  });
});

describe('resendCode', () => {
  it('is throttled: not within a minute of the last code', () => {
    const early = resendCode(key, fresh(), '555555', at(RESEND_MIN_INTERVAL_MS - 20_500));
    expect(early).toMatchObject({ ok: false, reason: 'too_soon', retryAfterMs: 20_500, message: expect.stringContaining('in 21 seconds') });
  });

  it('replaces the code, restarts the 15 minutes and the attempts; the old code stops working', () => {
    const worn = { ...fresh(), attempts: 3 };
    const resent = resendCode(key, worn, '555555', at(RESEND_MIN_INTERVAL_MS));
    if (!resent.ok) throw new Error('expected a resend');
    expect(resent.state).toMatchObject({ attempts: 0, resends: 1, issuedAt: at(RESEND_MIN_INTERVAL_MS) });
    expect(checkCode(resent.state, '042917', at(RESEND_MIN_INTERVAL_MS + 1), key).result).toBe('wrong');
    expect(checkCode(resent.state, '555555', at(RESEND_MIN_INTERVAL_MS + CODE_TTL_MS - 1), key).result).toBe('ok');
  });

  it(`allows ${MAX_RESENDS} resends, then refuses`, () => {
    let state = fresh();
    for (let i = 1; i <= MAX_RESENDS; i++) {
      const resent = resendCode(key, state, '55555' + i, at(i * RESEND_MIN_INTERVAL_MS));
      if (!resent.ok) throw new Error('expected a resend');
      state = resent.state;
    }
    expect(resendCode(key, state, '999999', at(100 * RESEND_MIN_INTERVAL_MS))).toMatchObject({ ok: false, reason: 'too_many' });
  });
});

it('the email tells the recipient what the code is for and what to do if they did not apply', () => {
  const email = verificationEmail('042917');
  expect(email.subject).not.toContain('042917');
  expect(email.text).toContain('042917');
  expect(email.text).toMatch(/15 minutes/);
  expect(email.text).toMatch(/did not apply/);
  expect(email.text).toMatch(/own email address/);
});
