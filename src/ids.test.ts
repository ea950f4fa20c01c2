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
  const now = vi.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-11-24T10:00:00.000Z'));
  const ids = Array.from({ length: 10_000 }, () => newId());
  now.mockReturnValue(Date.parse('2026-11-24T09:59:59.000Z'));
  ids.push(...Array.from({ length: 10 }, () => newId()));
  for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1], `${ids[i - 1]} then ${ids[i]}`).toBe(true);
  // The borrowed milliseconds are few: 10,010 ids need at most five 12-bit counters.
  expect(parseInt(ids.at(-1)!.replace(/-/g, '').slice(0, 12), 16) - Date.parse('2026-11-24T10:00:00.000Z')).toBeLessThanOrEqual(5);
});
