import { describe, expect, it } from 'vitest';
import { MAX_DELIVERY_ATTEMPTS, retryDelayMs, signPayload, verifySignature } from './signature.ts';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"e1","type":"contact.expunged","data":{"contactId":"c1"}}';
  const t = 1_768_467_600;

  it('signs "<t>.<body>" with HMAC-SHA256 and verifies it', () => {
    const header = signPayload(secret, body, t);
    expect(header).toMatch(/^t=1768467600,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, header, body, t + 10)).toEqual({ ok: true });
  });

  it('refuses another body, another secret, a malformed header and an old timestamp', () => {
    const header = signPayload(secret, body, t);
    expect(verifySignature(secret, header, body.replace('c1', 'c2'), t)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature('whsec_other', header, body, t)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(secret, undefined, body, t)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature(secret, 'v1=abc', body, t)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature(secret, header, body, t + 301)).toEqual({ ok: false, reason: 'too_old' });
  });

  it('backs off exponentially from 30 seconds, capped at 6 hours', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(MAX_DELIVERY_ATTEMPTS + 20)).toBe(6 * 3_600_000);
  });
});
