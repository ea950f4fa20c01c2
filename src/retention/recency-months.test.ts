import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineMonthCounts, stringAfterPrefix, type MonthCount } from './recency-months.ts';

/** What SQLite does with `x >= from and x < to` on text (BINARY collation): byte order, the same as code-unit order in ASCII. */
const inTextRange = (x: string, from: string, to: string) => x >= from && x < to;

describe('month ranges of the report histogram', () => {
  it('names the string after a prefix, across the digits a month ends with', () => {
    expect(stringAfterPrefix('2022-03')).toBe('2022-04');
    expect(stringAfterPrefix('2022-09')).toBe('2022-0:');
    expect(stringAfterPrefix('2022-12')).toBe('2022-13');
    expect(stringAfterPrefix('1999-10')).toBe('1999-11');
    expect(() => stringAfterPrefix('')).toThrow();
    expect(() => stringAfterPrefix('2022-0\u00e9')).toThrow(/ASCII/);
  });

  it('property: a timestamp falls in its month’s range and in no other (substr(x, 1, 7) = month)', () => {
    const instant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2199, 11, 31, 23, 59, 59, 999) }).map((ms) => new Date(ms).toISOString());
    fc.assert(
      fc.property(instant, instant, (x, other) => {
        for (const month of [x.slice(0, 7), other.slice(0, 7)]) {
          expect(inTextRange(x, month, stringAfterPrefix(month))).toBe(x.slice(0, 7) === month);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: for any ASCII strings, the range holds exactly the strings that start with the prefix', () => {
    // A small alphabet around the edges that matter: digits, their neighbours, separators, the last ASCII characters.
    const text = (min: number) => fc.string({ unit: fc.constantFrom('0', '1', '8', '9', ':', '/', '-', 'T', 'Z', '~', ' '), minLength: min, maxLength: 9 });
    fc.assert(
      fc.property(text(1), text(0), (prefix, x) => {
        const after = stringAfterPrefix(prefix);
        expect(inTextRange(x, prefix, after)).toBe(x.startsWith(prefix));
        expect(inTextRange(prefix + x, prefix, after)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('adds parts, takes out a subset, keeps months in order and drops emptied ones', () => {
    const m = (month: string, contacts: number): MonthCount => ({ month, contacts });
    expect(combineMonthCounts([[m('2022-03', 2), m('2021-12', 1)], [m('2022-03', 1), m('2020-01', 4)]], [m('2020-01', 4), m('2022-03', 1)])).toEqual([m('2021-12', 1), m('2022-03', 2)]);
    expect(combineMonthCounts([])).toEqual([]);
    expect(() => combineMonthCounts([[m('2022-03', 1)]], [m('2022-03', 2)])).toThrow(/2022-03/);
    expect(() => combineMonthCounts([[m('2022-03', 1)]], [m('2022-04', 1)])).toThrow(/2022-04/);
  });

  it('property: the same counts as grouping the contacts that remain', () => {
    const month = fc.constantFrom('2019-12', '2020-01', '2020-09', '2020-10', '2021-02');
    const countsOf = (months: string[]) => {
      const byMonth = new Map<string, number>();
      for (const mo of months) byMonth.set(mo, (byMonth.get(mo) ?? 0) + 1);
      return [...byMonth].map(([mo, contacts]) => ({ month: mo, contacts }));
    };
    fc.assert(
      fc.property(fc.array(month), fc.array(month), fc.array(fc.boolean()), (a, b, takenOut) => {
        // Each contact of either part is taken out (an anonymised stub) or not.
        const all = [...a, ...b];
        const out = all.filter((_, i) => takenOut[i]);
        const left = all.filter((_, i) => !takenOut[i]);
        const expected = countsOf(left).sort((x, y) => (x.month < y.month ? -1 : 1));
        expect(combineMonthCounts([countsOf(a), countsOf(b)], countsOf(out))).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
