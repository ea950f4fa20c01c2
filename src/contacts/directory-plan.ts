import type { AppContext } from '../context.ts';

/**
 * A directory page can be found two ways: walk the sort key's index and keep the contacts that
 * match (fast when matches are common, a crawl through the institution when they are rare), or
 * look up a selective filter's matches and sort them (fast when they are few, slow when many).
 * SQLite picks between them without knowing how many rows a prefix or an attribute value holds,
 * and picks wrong both ways. So each selective filter first counts its matches along its own
 * index, up to a cap; the rarest under the cap drives, otherwise the sort index is walked.
 * PostgreSQL makes this choice itself from its statistics. At 1M contacts, sorting ~4,000 rows
 * costs about what walking to a page of 50 costs at that selectivity, hence the cap.
 */
export const driveLimit = 4000;

export interface DriverCandidate<T> {
  id: T;
  /** counts matches up to `cap`, along the filter's own index */
  count: (cap: number) => Promise<number>;
}

/** The candidate with the fewest matches below the cap, or null when none is that selective. */
export async function chooseDriver<T>(ctx: AppContext, candidates: DriverCandidate<T>[], limit = driveLimit): Promise<T | null> {
  if (ctx.store.kind !== 'sqlite' || candidates.length === 0 || limit <= 0) return null;
  let best: T | null = null;
  let fewest = limit;
  for (const c of candidates) {
    const n = await c.count(fewest);
    if (n < fewest) [best, fewest] = [c.id, n];
  }
  return best;
}
