import { describe, expect, it } from 'vitest';
import { codeState, CODE_TTL_MS, MAX_CODE_ATTEMPTS, MAX_CODES_PER_HOUR, mayIssueCode, typedCode } from './code-rules.ts';

const now = new Date('2026-01-15T09:00:00.000Z');
const at = (ms: number) => new Date(now.getTime() + ms).toISOString();

describe('one-time profile codes', () => {
  it('is usable until it expires, then expired', () => {
    expect(codeState({ expires_at: at(1), consumed_at: null, attempts: 0 }, now)).toBe('usable');
    expect(codeState({ expires_at: at(0), consumed_at: null, attempts: 0 }, now)).toBe('expired');
    expect(codeState({ expires_at: at(-CODE_TTL_MS), consumed_at: null, attempts: 0 }, now)).toBe('expired');
  });

  it('works once', () => {
    expect(codeState({ expires_at: at(60_000), consumed_at: at(-1), attempts: 0 }, now)).toBe('used');
  });

  it(`locks after ${MAX_CODE_ATTEMPTS} wrong tries`, () => {
    for (let attempts = 0; attempts <= MAX_CODE_ATTEMPTS + 1; attempts++) {
      expect(codeState({ expires_at: at(60_000), consumed_at: null, attempts }, now)).toBe(attempts < MAX_CODE_ATTEMPTS ? 'usable' : 'locked');
    }
  });

  it(`sends at most ${MAX_CODES_PER_HOUR} codes an hour to one address`, () => {
    for (let n = 0; n <= MAX_CODES_PER_HOUR + 1; n++) expect(mayIssueCode(n)).toBe(n < MAX_CODES_PER_HOUR);
  });

  it('reads the code as people type it', () => {
    expect(typedCode('123456')).toBe('123456');
    expect(typedCode(' 123 456 ')).toBe('123456');
    expect(typedCode('123-456')).toBe('123456');
    expect(typedCode('12345')).toBeNull();
    expect(typedCode('1234567')).toBeNull();
    expect(typedCode('12345a')).toBeNull();
    expect(typedCode('')).toBeNull();
  });
});
