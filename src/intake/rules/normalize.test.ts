import { describe, it, expect } from 'vitest';
import { keyedHash } from '../../security/server-secret.ts';
import { foldLastName, givenValue, isFieldError, normalizeEmail, normalizeMobile, parseSsn, ssnHashes } from './normalize.ts';

describe('normalizeEmail', () => {
  it.each([
    ['  Ana.Garcia@Example.ORG  ', 'ana.garcia@example.org'],
    ['\tANA@EXAMPLE.ORG\n', 'ana@example.org'],
    ['ana+jobs@example.org', 'ana+jobs@example.org'],
  ])('folds %j to %s', (raw, email) => {
    expect(normalizeEmail(raw)).toEqual({ email });
  });

  it.each(['ana', 'ana@', '@example.org', 'ana garcia@example.org', 'ana@@example.org'])('refuses %j', (raw) => {
    expect(normalizeEmail(raw)).toEqual({ field: 'email', message: expect.stringContaining('valid email') });
  });
});

describe('normalizeMobile', () => {
  it.each([
    ['(201) 555-0123', 'US', '+12015550123'],
    ['201.555.0123', 'US', '+12015550123'],
    ['+1 201 555 0123', 'FR', '+12015550123'],
    ['06 12 34 56 78', 'FR', '+33612345678'],
    ['0612345678', 'FR', '+33612345678'],
    ['+33 6 12 34 56 78', 'US', '+33612345678'],
    ['0033 6 12 34 56 78', 'FR', '+33612345678'],
    ['011 33 6 12 34 56 78', 'US', '+33612345678'],
    ['  +33 (0)6 12 34 56 78 ', 'US', '+33612345678'],
  ] as const)('reads %j in region %s as %s', (raw, region, e164) => {
    expect(normalizeMobile(raw, region)).toEqual({ e164 });
  });

  it.each([
    ['555-0123', 'US'], // too short
    ['06 12 34 56', 'FR'],
    ['(201) 555-0123', 'FR'], // a US number without +1 is not French
    ['not a number', 'US'],
    ['', 'US'],
    ['+99 123 456 789', 'US'], // no such country code
    ['2015550123 ext. 5', 'US'],
    ['1'.repeat(41), 'US'],
  ] as const)('refuses %j in region %s with a field error', (raw, region) => {
    const result = normalizeMobile(raw, region);
    expect(isFieldError(result)).toBe(true);
    expect(result).toMatchObject({ field: 'mobilePhone' });
  });
});

describe('foldLastName', () => {
  it.each([
    ['García', 'garcia'],
    ['  GARCÍA  ', 'garcia'],
    ['Lefèvre-Dupont', 'lefevre dupont'],
    ['Lefèvre – Dupont', 'lefevre dupont'],
    ['Lefèvre  Dupont', 'lefevre dupont'],
    ["O'Brien", 'obrien'],
    ['O’Brien', 'obrien'],
    ['Müller', 'muller'],
    ['Øvergård', 'overgard'],
    ['Nguyễn', 'nguyen'],
  ])('folds %j to %j', (raw, folded) => {
    expect(foldLastName(raw)).toBe(folded);
  });

  it('makes spellings of one name meet', () => {
    expect(foldLastName('de la  Cruz')).toBe(foldLastName('De La Cruz'));
    expect(foldLastName('Saint‑Exupéry')).toBe(foldLastName('saint exupery'));
  });
});

describe('givenValue', () => {
  it('treats missing, empty and whitespace-only input as not given', () => {
    expect([givenValue(undefined), givenValue(null), givenValue(''), givenValue('  \t')]).toEqual([null, null, null, null]);
    expect(givenValue(' x ')).toBe(' x ');
  });
});

describe('parseSsn', () => {
  it.each([
    ['123-45-6789', '123456789'],
    ['123456789', '123456789'],
    ['  078-05-1120 ', '078051120'],
    ['899-99-9999', '899999999'],
  ])('accepts %j', (raw, digits) => {
    expect(parseSsn(raw)).toEqual({ digits });
  });

  it.each([
    ['12345678', 'too short'],
    ['1234567890', 'too long'],
    ['123-456-789', 'wrong grouping'],
    ['123 45 6789', 'spaces'],
    ['12a-45-6789', 'a letter'],
    ['123-45-678O', 'a letter O'],
    ['１２３４５６７８９', 'full-width digits'],
    ['', 'empty'],
  ])('refuses %j (%s) as badly written', (raw) => {
    expect(parseSsn(raw)).toEqual({ field: 'ssn', message: expect.stringContaining('9 digits') });
  });

  it.each([
    ['000-12-3456', 'area 000'],
    ['666-12-3456', 'area 666'],
    ['900-12-3456', 'area 900'],
    ['999-12-3456', 'area 999'],
    ['123-00-4567', 'group 00'],
    ['123-45-0000', 'serial 0000'],
  ])('refuses %j (%s) as never issued', (raw) => {
    expect(parseSsn(raw)).toEqual({ field: 'ssn', message: expect.stringContaining('not a valid') });
  });

  it('never repeats the SSN in its error', () => {
    for (const [raw, fragment] of [['666-70-8080', '8080'], ['77777777', '7777'], ['321-54-0000', '321']]) {
      const result = parseSsn(raw);
      expect(isFieldError(result)).toBe(true);
      expect(isFieldError(result) && result.message).not.toContain(fragment);
    }
  });
});

describe('ssnHashes', () => {
  const key = Buffer.alloc(32, 1);
  const hashes = ssnHashes(key, '123456789');

  it('keeps only keyed hashes of the full SSN, its last 6 and last 4', () => {
    expect(hashes.full).toBe(keyedHash(key, 'ssn-full:123456789'));
    expect(hashes.last6).toBe(keyedHash(key, 'ssn-last6:456789'));
    expect(hashes.last4).toBe(keyedHash(key, 'ssn-last4:6789'));
    expect(JSON.stringify(hashes)).not.toMatch(/6789/);
  });

  it('gives each kind its own hash space, and depends on the key', () => {
    expect(new Set([hashes.full, hashes.last6, hashes.last4]).size).toBe(3);
    expect(hashes.last4).not.toBe(keyedHash(key, '6789'));
    expect(ssnHashes(Buffer.alloc(32, 2), '123456789').full).not.toBe(hashes.full);
  });

  it('gives SSNs ending alike equal last 6 / last 4 hashes, and nothing more', () => {
    const sameLast6 = ssnHashes(key, '987456789');
    expect([sameLast6.full === hashes.full, sameLast6.last6 === hashes.last6, sameLast6.last4 === hashes.last4]).toEqual([false, true, true]);
    const sameLast4 = ssnHashes(key, '987556789');
    expect([sameLast4.full === hashes.full, sameLast4.last6 === hashes.last6, sameLast4.last4 === hashes.last4]).toEqual([false, false, true]);
  });

  it('refuses anything but nine digits, without echoing it', () => {
    expect(() => ssnHashes(key, '123-45-6789')).toThrow(/^ssnHashes expects the 9 digits returned by parseSsn$/);
  });
});
