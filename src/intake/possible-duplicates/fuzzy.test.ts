import { describe, expect, it } from 'vitest';
import { boundedEditDistance, comparePair, pairsInGroup, type FuzzyContact } from './fuzzy.ts';

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
