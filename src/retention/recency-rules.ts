/**
 * Seed 004's recency indicator, as pure rules: which events count as activity, at which date, and
 * which one wins. No I/O; the store (recency-store.ts) and the rebuild (recency-rebuild.ts) apply
 * exactly these rules, and tests hold them to it.
 */

/** Why a contact's recency is what it is; rank breaks ties between events of the same instant. */
export const recencyReasons = [
  'created',
  'option_acquired',
  'option_confirmed',
  'reservation',
  'sale',
  'waitlist',
  'link_click',
  'criterion_change',
  'authorization_change',
] as const;
export type RecencyReason = (typeof recencyReasons)[number];

export const rankOf = (reason: RecencyReason): number => recencyReasons.indexOf(reason);

export interface Recency {
  at: string;
  reason: RecencyReason;
  /** the order, option or waiting-list entry that set it, when there is one */
  sourceId: string | null;
}

export interface OrderLineFacts {
  dated: boolean;
  /** the performance or validity date of a dated product */
  validityDate: string | null;
}

/** What can happen to a contact, as the ticketing system and Lethe record it. */
export type RecencySignal =
  | { kind: 'option'; id: string; acquiredAt: string; confirmedAt: string | null }
  | { kind: 'order'; id: string; orderKind: 'reservation' | 'sale'; role: 'purchase' | 'cultural'; orderedAt: string; lines: OrderLineFacts[] }
  | { kind: 'payment'; orderId: string; paidAt: string }
  | { kind: 'waitlist'; id: string; addedAt: string }
  | { kind: 'link_click'; at: string }
  | { kind: 'criterion_change'; at: string }
  | { kind: 'authorization_change'; at: string; anyGrantedAfter: boolean };

/**
 * The dates a signal contributes. A dated product counts at its validity date, an undated one at
 * the order date (an order without lines at its order date); completing a payment counts for
 * nothing; an authorization change counts only if at least one authorization is still "yes".
 */
export function candidatesOf(signal: RecencySignal): Recency[] {
  switch (signal.kind) {
    case 'option':
      return [
        { at: signal.acquiredAt, reason: 'option_acquired', sourceId: signal.id },
        ...(signal.confirmedAt ? [{ at: signal.confirmedAt, reason: 'option_confirmed' as const, sourceId: signal.id }] : []),
      ];
    case 'order': {
      const dates = signal.lines.length ? signal.lines.map((l) => (l.dated && l.validityDate ? l.validityDate : signal.orderedAt)) : [signal.orderedAt];
      return dates.map((at) => ({ at, reason: signal.orderKind, sourceId: signal.id }));
    }
    case 'payment':
      return [];
    case 'waitlist':
      return [{ at: signal.addedAt, reason: 'waitlist', sourceId: signal.id }];
    case 'link_click':
      return [{ at: signal.at, reason: 'link_click', sourceId: null }];
    case 'criterion_change':
      return [{ at: signal.at, reason: 'criterion_change', sourceId: null }];
    case 'authorization_change':
      return signal.anyGrantedAfter ? [{ at: signal.at, reason: 'authorization_change', sourceId: null }] : [];
  }
}

const time = (iso: string) => Date.parse(iso);

/** True when `a` should replace `b`: later, or at the same instant a higher-ranked reason. */
export function supersedes(a: Pick<Recency, 'at' | 'reason'>, b: Pick<Recency, 'at' | 'reason'> | null): boolean {
  if (!b) return true;
  const d = time(a.at) - time(b.at);
  return d > 0 || (d === 0 && rankOf(a.reason) > rankOf(b.reason));
}

/** The latest qualifying activity; with none, the creation date. */
export function recencyOf(createdAt: string, signals: RecencySignal[]): Recency {
  let best: Recency | null = null;
  for (const s of signals) for (const c of candidatesOf(s)) if (supersedes(c, best)) best = c;
  return best ?? { at: createdAt, reason: 'created', sourceId: null };
}

/** Is the contact inactive at `cutoff` (its recency strictly before it)? */
export function isInactive(recency: Pick<Recency, 'at'>, cutoff: string): boolean {
  return time(recency.at) < time(cutoff);
}

/**
 * The batch's cutoff: the start (UTC) of the day `months` months before `asOf`, so every run of the
 * same day, simulation or execution, draws the line at the same instant. A day that does not exist
 * in the earlier month (31 March − 1 month) falls back to that month's last day.
 */
export function inactivityCutoff(asOf: Date, months: number): Date {
  if (!Number.isInteger(months) || months <= 0) throw new RangeError('months must be a positive whole number');
  const y = asOf.getUTCFullYear();
  const m = asOf.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m, Math.min(asOf.getUTCDate(), lastDay)));
}
