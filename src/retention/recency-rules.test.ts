import { describe, expect, it } from 'vitest';
import { candidatesOf, inactivityCutoff, isInactive, recencyOf, supersedes, type RecencySignal } from './recency-rules.ts';

const created = '2020-01-01T00:00:00.000Z';
const d = (day: string) => `${day}T00:00:00.000Z`;
const order = (over: Partial<Extract<RecencySignal, { kind: 'order' }>> = {}): RecencySignal => ({
  kind: 'order',
  id: 'o1',
  orderKind: 'sale',
  role: 'purchase',
  orderedAt: d('2021-03-01'),
  lines: [],
  ...over,
});

describe('recency rules (seed 004)', () => {
  const table: { name: string; signals: RecencySignal[]; at: string; reason: string }[] = [
    { name: 'no activity: the creation date', signals: [], at: created, reason: 'created' },
    { name: 'option acquisition', signals: [{ kind: 'option', id: 'p', acquiredAt: d('2021-01-01'), confirmedAt: null }], at: d('2021-01-01'), reason: 'option_acquired' },
    { name: 'option confirmation after acquisition', signals: [{ kind: 'option', id: 'p', acquiredAt: d('2021-01-01'), confirmedAt: d('2021-02-01') }], at: d('2021-02-01'), reason: 'option_confirmed' },
    { name: 'sale as purchase contact, undated product: order date', signals: [order({ lines: [{ dated: false, validityDate: null }] })], at: d('2021-03-01'), reason: 'sale' },
    { name: 'sale as cultural contact counts too', signals: [order({ role: 'cultural' })], at: d('2021-03-01'), reason: 'sale' },
    { name: 'reservation counts', signals: [order({ orderKind: 'reservation' })], at: d('2021-03-01'), reason: 'reservation' },
    { name: 'dated product: validity date, even after the order date', signals: [order({ lines: [{ dated: true, validityDate: d('2022-06-30') }] })], at: d('2022-06-30'), reason: 'sale' },
    { name: 'dated product: validity date, even before the order date', signals: [order({ lines: [{ dated: true, validityDate: d('2020-06-30') }] })], at: d('2020-06-30'), reason: 'sale' },
    {
      name: 'mixed lines: the latest of validity and order dates',
      signals: [order({ lines: [{ dated: true, validityDate: d('2020-06-30') }, { dated: false, validityDate: null }] })],
      at: d('2021-03-01'),
      reason: 'sale',
    },
    { name: 'dated line without a validity date falls back to the order date', signals: [order({ lines: [{ dated: true, validityDate: null }] })], at: d('2021-03-01'), reason: 'sale' },
    { name: 'completing a payment does not count', signals: [order(), { kind: 'payment', orderId: 'o1', paidAt: d('2023-01-01') }], at: d('2021-03-01'), reason: 'sale' },
    { name: 'only a payment: still the creation date', signals: [{ kind: 'payment', orderId: 'o1', paidAt: d('2023-01-01') }], at: created, reason: 'created' },
    { name: 'added to a waiting list', signals: [{ kind: 'waitlist', id: 'w', addedAt: d('2022-01-01') }], at: d('2022-01-01'), reason: 'waitlist' },
    { name: 'tracked-link click', signals: [{ kind: 'link_click', at: d('2022-02-01') }], at: d('2022-02-01'), reason: 'link_click' },
    { name: 'criterion change', signals: [{ kind: 'criterion_change', at: d('2022-03-01') }], at: d('2022-03-01'), reason: 'criterion_change' },
    { name: 'authorization change with one still yes', signals: [{ kind: 'authorization_change', at: d('2022-04-01'), anyGrantedAfter: true }], at: d('2022-04-01'), reason: 'authorization_change' },
    { name: 'authorization change leaving none yes does not count', signals: [{ kind: 'authorization_change', at: d('2022-04-01'), anyGrantedAfter: false }], at: created, reason: 'created' },
    {
      name: 'the latest wins across kinds',
      signals: [{ kind: 'link_click', at: d('2022-02-01') }, order({ lines: [{ dated: true, validityDate: d('2024-01-01') }] }), { kind: 'criterion_change', at: d('2023-03-01') }],
      at: d('2024-01-01'),
      reason: 'sale',
    },
    { name: 'an action older than the creation date still replaces it', signals: [{ kind: 'waitlist', id: 'w', addedAt: d('2019-01-01') }], at: d('2019-01-01'), reason: 'waitlist' },
    {
      name: 'same instant: the higher-ranked reason, whatever the order',
      signals: [{ kind: 'authorization_change', at: d('2022-01-01'), anyGrantedAfter: true }, { kind: 'waitlist', id: 'w', addedAt: d('2022-01-01') }],
      at: d('2022-01-01'),
      reason: 'authorization_change',
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const r = recencyOf(created, row.signals);
      expect({ at: r.at, reason: r.reason }).toEqual({ at: row.at, reason: row.reason });
      expect(recencyOf(created, [...row.signals].reverse()).at).toBe(row.at);
    });
  }

  it('names the source of ticketing events', () => {
    expect(candidatesOf({ kind: 'waitlist', id: 'w9', addedAt: d('2022-01-01') })[0].sourceId).toBe('w9');
    expect(recencyOf(created, [order({ id: 'o7' })]).sourceId).toBe('o7');
  });

  it('supersedes: later wins, ties go to the higher rank, never to an equal one', () => {
    expect(supersedes({ at: d('2022-01-02'), reason: 'created' }, { at: d('2022-01-01'), reason: 'sale' })).toBe(true);
    expect(supersedes({ at: d('2022-01-01'), reason: 'sale' }, { at: d('2022-01-01'), reason: 'sale' })).toBe(false);
    expect(supersedes({ at: d('2022-01-01'), reason: 'waitlist' }, { at: d('2022-01-01'), reason: 'sale' })).toBe(true);
    expect(supersedes({ at: d('2021-12-31'), reason: 'authorization_change' }, { at: d('2022-01-01'), reason: 'created' })).toBe(false);
  });

  it('cutoff: start of the same day N months earlier, clamped to the month’s end', () => {
    expect(inactivityCutoff(new Date('2026-01-15T09:00:00Z'), 36).toISOString()).toBe('2023-01-15T00:00:00.000Z');
    expect(inactivityCutoff(new Date('2026-03-31T23:59:00Z'), 1).toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(inactivityCutoff(new Date('2024-03-31T00:00:00Z'), 1).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(inactivityCutoff(new Date('2026-01-15T00:00:00Z'), 13).toISOString()).toBe('2024-12-15T00:00:00.000Z');
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => inactivityCutoff(new Date(), bad)).toThrow(RangeError);
  });

  it('inactive strictly before the cutoff', () => {
    expect(isInactive({ at: d('2023-01-14') }, d('2023-01-15'))).toBe(true);
    expect(isInactive({ at: d('2023-01-15') }, d('2023-01-15'))).toBe(false);
  });
});
