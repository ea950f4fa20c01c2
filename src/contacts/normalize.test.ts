import { describe, expect, it } from 'vitest';
import { emailSearchKey, foldName, isPlausiblePhone, mobileToE164, normalizeEmail, tidyName } from './normalize.ts';

describe('foldName', () => {
  it.each([
    ['Éloïse', 'eloise'],
    ['  MÜLLER  ', 'muller'],
    ['Jean-Pierre', 'jean pierre'],
    ['Jean – Pierre', 'jean pierre'],
    ['Jean‐Pierre', 'jean pierre'],
    ['Jean\u2011Pierre', 'jean pierre'],
    ['O’Brien', 'obrien'],
    ["O'Brien", 'obrien'],
    ['OʼBrien', 'obrien'],
    ['D´Angelo', 'dangelo'],
    ['van   der\tBerg', 'van der berg'],
    ['van\u00a0der Berg', 'van der berg'],
    ['Straße', 'strasse'],
    ['Øster', 'oster'],
    ['Łukasz', 'lukasz'],
    ['Ægir', 'aegir'],
    ['Œuvre', 'oeuvre'],
    ['Þór', 'thor'],
    ['ﬁnn', 'finn'],
    ['Ｓｍｉｔｈ', 'smith'],
    ['So\u00adphie', 'sophie'],
    ['Nguyễn', 'nguyen'],
    ['Çelik', 'celik'],
    ['   ', ''],
  ])('%j folds to %j', (raw, folded) => {
    expect(foldName(raw)).toBe(folded);
  });

  it('folds the same person typed differently to the same key', () => {
    const variants = ['Lefèvre-D’Arcy', ' lefevre darcy ', 'LEFEVRE–DARCY', "Lefèvre D'Arcy"];
    expect(new Set(variants.map(foldName)).size).toBe(1);
  });

  it('is idempotent', () => {
    for (const raw of ['Éloïse D’Arcy-Smith', 'Straße', '  a  b ']) expect(foldName(foldName(raw))).toBe(foldName(raw));
  });
});

describe('tidyName', () => {
  it('trims and collapses whitespace but keeps case and accents', () => {
    expect(tidyName('  Éloïse   Marie ')).toBe('Éloïse Marie');
  });
});

describe('normalizeEmail', () => {
  it.each([
    [' Ada@Example.ORG ', 'ada@example.org'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
  ])('%j → %j', (raw, normalized) => expect(normalizeEmail(raw)).toBe(normalized));

  it.each(['', 'ada', 'ada@', '@example.org', 'ada@example', 'a b@example.org', 'ada@@example.org', `${'a'.repeat(250)}@example.org`])(
    'refuses %j',
    (raw) => expect(normalizeEmail(raw)).toBeNull(),
  );

  it('search keys fold the same way without validating', () => {
    expect(emailSearchKey(' Ada@Exa')).toBe('ada@exa');
  });
});

describe('phones', () => {
  it.each([
    ['+41 79 123 45 67', '+41791234567'],
    ['+1 (202) 555-0123', '+12025550123'],
    ['(202) 555-0123', '+12025550123'],
    ['+33.6.12.34.56.78', '+33612345678'],
    ['079 123 45 67', null],
    ['+1 (555) 123-4567', null],
    ['+0 12345678', null],
    ['+1234567', null],
    ['+1234567890123456', null],
  ])('%j → E.164 %j (default region US)', (raw, e164) => expect(mobileToE164(raw)).toBe(e164));

  it("reads national numbers in the institution's region", () => {
    expect(mobileToE164('079 123 45 67', 'CH')).toBe('+41791234567');
    expect(mobileToE164('06 12 34 56 78', 'FR')).toBe('+33612345678');
    expect(mobileToE164('06 12 34 56 78', 'US')).toBeNull();
  });

  it.each([
    ['+41 79 123 45 67', true],
    ['(555) 123-4567', true],
    ['079/123 45 67', true],
    ['call me', false],
    ['12', false],
    ['+41 79 abc', false],
  ])('%j plausible: %s', (raw, ok) => expect(isPlausiblePhone(raw)).toBe(ok));
});
