import { describe, expect, it } from 'vitest';
import { boundedEditDistance, comparePair, compareSimilarNames, pairsInGroup, similarNames, type FuzzyContact } from './fuzzy.ts';

const person = (id: string, over: Partial<FuzzyContact> = {}): FuzzyContact => ({
  id,
  firstNameFolded: 'ann',
  lastNameFolded: 'lee',
  emailNormalized: null,
  mobileE164: null,
  employerId: null,
  ...over,
});

describe('boundedEditDistance', () => {
  it.each([
    ['kitten', 'kitten', 2, 0],
    ['kitten', 'sitten', 2, 1],
    ['kitten', 'sittin', 2, 2],
    ['kitten', 'sitting', 2, null],
    ['ann@gmail.com', 'ann@gmial.com', 2, 2],
    ['abc', 'abcd', 1, 1],
    ['a', 'abcd', 2, null],
    ['', 'ab', 2, 2],
  ])('%s → %s within %i: %s', (a, b, max, d) => {
    expect(boundedEditDistance(a, b, max)).toBe(d);
    expect(boundedEditDistance(b, a, max)).toBe(d);
  });
});

describe('comparePair', () => {
  it('needs the same folded full name', () => {
    expect(comparePair(person('1', { emailNormalized: 'x@a.org' }), person('2', { emailNormalized: 'x@a.org', firstNameFolded: 'anne' }))).toBeNull();
    expect(comparePair(person('1'), person('2'))).toBeNull(); // a shared name alone is not enough
  });

  it.each([
    ['same email', { emailNormalized: 'ann@a.org' }, { emailNormalized: 'ann@a.org' }, ['same_email'], 0.95],
    ['same mobile', { mobileE164: '+12125550100' }, { mobileE164: '+12125550100' }, ['same_mobile'], 0.95],
    ['mobiles ending alike', { mobileE164: '+12125550100' }, { mobileE164: '+13125550100' }, ['mobile_last6'], 0.85],
    ['mobiles differing', { mobileE164: '+12125550100' }, { mobileE164: '+12125550199' }, [], null],
    ['same local part elsewhere', { emailNormalized: 'ann.lee@work.org' }, { emailNormalized: 'ann.lee@home.net' }, ['email_other_domain'], 0.8],
    ['a one-letter typo', { emailNormalized: 'ann.lee@work.org' }, { emailNormalized: 'an.lee@work.org' }, ['email_typo'], 0.75],
    ['a two-letter typo in the domain', { emailNormalized: 'ann@gmail.com' }, { emailNormalized: 'ann@gmial.com' }, ['email_other_domain', 'email_typo'], 0.93],
    ['different emails', { emailNormalized: 'ann@a.org' }, { emailNormalized: 'zed@b.org' }, [], null],
    ['same employer', { employerId: 'e1' }, { employerId: 'e1' }, ['same_employer'], 0.6],
    ['same employer and mobile ending', { employerId: 'e1', mobileE164: '+12125550100' }, { employerId: 'e1', mobileE164: '+44205550100' }, ['mobile_last6', 'same_employer'], 0.94],
  ])('%s', (_label, a, b, codes, score) => {
    const result = comparePair(person('1', a), person('2', b));
    if (score === null) return expect(result).toBeNull();
    expect(result!.reasons.map((r) => r.code)).toEqual(codes);
    expect(result!.score).toBe(score);
    expect(JSON.stringify(result)).not.toMatch(/@|\+1/);
  });

  it('lists each pair of a group once, lower id first', () => {
    const group = [person('c', { employerId: 'e' }), person('a', { employerId: 'e' }), person('b', { employerId: 'x' })];
    expect(pairsInGroup(group).map((p) => [p.a, p.b])).toEqual([['a', 'c']]);
  });
});

describe('similarNames', () => {
  it.each([
    ['john', 'john', true],
    ['kath', 'katherine', true], // a short form (prefix of 3+ letters)
    ['alex', 'alexander', true],
    ['jon', 'john', true], // one letter more
    ['ann', 'anne', true],
    ['smith', 'smyth', true], // one letter changed, 5+ letters
    ['mark', 'mary', false], // one letter changed in a short name: another name
    ['al', 'alan', false], // too short to tell
    ['ann', 'amy', false],
    ['ada', 'byron', false],
    ['', '', false],
  ])('%s ~ %s: %s', (x, y, want) => {
    expect(similarNames(x, y)).toBe(want);
    expect(similarNames(y, x)).toBe(want);
  });
});

describe('compareSimilarNames (households and employers)', () => {
  const household = { emailNormalized: 'home@a.org' };
  it.each([
    ['a short form at one address', { firstNameFolded: 'kath', ...household }, { firstNameFolded: 'katherine', ...household }, ['similar_name_same_email'], 0.8],
    ['a typo in the last name, same mobile', { lastNameFolded: 'smith', mobileE164: '+12125550100' }, { lastNameFolded: 'smyth', mobileE164: '+12125550100' }, ['similar_name_same_mobile'], 0.8],
    ['a short form at one employer', { firstNameFolded: 'alex', employerId: 'e1' }, { firstNameFolded: 'alexander', employerId: 'e1' }, ['similar_name_same_employer'], 0.5],
    ['everything shared', { firstNameFolded: 'jon', ...household, mobileE164: '+1', employerId: 'e1' }, { firstNameFolded: 'john', ...household, mobileE164: '+1', employerId: 'e1' }, ['similar_name_same_email', 'similar_name_same_mobile', 'similar_name_same_employer'], 0.98],
  ])('%s', (_label, a, b, codes, score) => {
    const result = compareSimilarNames(person('1', a), person('2', b));
    expect(result!.reasons.map((r) => r.code)).toEqual(codes);
    expect(result!.score).toBe(score);
    expect(JSON.stringify(result)).not.toMatch(/@|\+1|kath|smith/);
  });

  it('leaves out a family sharing an address (same last name, unrelated first names), strangers, and same-name pairs', () => {
    expect(compareSimilarNames(person('1', { firstNameFolded: 'ada', lastNameFolded: 'lovelace', ...household }), person('2', { firstNameFolded: 'byron', lastNameFolded: 'lovelace', ...household }))).toBeNull();
    expect(compareSimilarNames(person('1', { firstNameFolded: 'mark', lastNameFolded: 'lovelace', ...household }), person('2', { firstNameFolded: 'mary', lastNameFolded: 'lovelace', ...household }))).toBeNull();
    expect(compareSimilarNames(person('1', { firstNameFolded: 'kath', ...household }), person('2', { firstNameFolded: 'katherine', emailNormalized: 'other@a.org' }))).toBeNull();
    expect(compareSimilarNames(person('1', { firstNameFolded: 'kath', lastNameFolded: 'lee', employerId: 'e' }), person('2', { firstNameFolded: 'katherine', lastNameFolded: 'moss', employerId: 'e' }))).toBeNull();
    // the same full name is comparePair's case, so a pair is never queued twice over
    expect(compareSimilarNames(person('1', household), person('2', household))).toBeNull();
  });
});
