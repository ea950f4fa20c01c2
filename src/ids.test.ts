import { afterEach, expect, it, vi } from 'vitest';
import { newId, uuidPattern } from './ids.ts';

it('mints UUIDv7s that count up within a millisecond, and sort by the time they are given', () => {
  const ids = Array.from({ length: 20_000 }, () => newId());
  for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1], `${ids[i - 1]} then ${ids[i]}`).toBe(true);
  for (const id of ids.slice(0, 100)) {
    expect(id).toMatch(uuidPattern);
    expect(id[14]).toBe('7'); // version
    expect('89ab').toContain(id[19]); // variant
  }
  expect(newId(Date.parse('2020-01-01')) < newId(Date.parse('2020-01-02'))).toBe(true);
  expect(new Set(Array.from({ length: 1000 }, () => newId(0))).size).toBe(1000);
});

afterEach(() => vi.restoreAllMocks());

it('keeps counting up past 4,096 ids in one millisecond and when the clock steps back', () => {
  // Frozen a year ahead of every id minted so far in this process, so this test's ids start from it.
  const base = Date.now() + 365 * 86_400_000;
  const now = vi.spyOn(Date, 'now').mockReturnValue(base);
  const ids = Array.from({ length: 10_000 }, () => newId());
  now.mockReturnValue(base - 1000);
  ids.push(...Array.from({ length: 10 }, () => newId()));
  for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1], `${ids[i - 1]} then ${ids[i]}`).toBe(true);
  // The borrowed milliseconds are few: 10,010 ids need at most five 12-bit counters.
  const msOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
  expect(msOf(ids[0])).toBe(base);
  expect(msOf(ids.at(-1)!) - base).toBeLessThanOrEqual(5);
});
