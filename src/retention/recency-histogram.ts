import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../context.ts';
import { effectiveRecency } from './recency-store.ts';
import { combineMonthCounts, stringAfterPrefix, type MonthCount } from './recency-months.ts';
import { engineOf } from '../db/engine.ts';

/**
 * The inactive-contact report's histogram: every contact of the institution not yet anonymised, by
 * the month of its recency (stored, else its creation date). PostgreSQL groups the contacts as
 * written in histogramByDefinition; SQLite would sort a million month keys for that, so it counts
 * the same contacts from index ranges instead (histogramFromIndexRanges).
 */
export async function recencyHistogram(db: Db, institutionId: string): Promise<MonthCount[]> {
  return engineOf(db) === 'postgres' ? histogramByDefinition(db, institutionId) : histogramFromIndexRanges(db, institutionId);
}

/** What the histogram counts, as one grouping over every contact (the reference the tests hold SQLite's counts to). */
export async function histogramByDefinition(db: Db, institutionId: string): Promise<MonthCount[]> {
  const pg = engineOf(db) === 'postgres';
  const monthOf = pg ? sql<string>`to_char(${effectiveRecency} at time zone 'UTC', 'YYYY-MM')` : sql<string>`substr(${effectiveRecency}, 1, 7)`;
  const rows = await sql<{ month: string; n: number }>`
    select ${monthOf} as month, count(*) as n
    from contacts c left join contact_recency r on r.contact_id = c.id
    where c.institution_id = ${institutionId} and not exists (select 1 from anonymised_contacts a where a.stub_id = c.id)
    group by 1 order by 1`.execute(db);
  return rows.rows.map((r) => ({ month: r.month, contacts: Number(r.n) }));
}

/**
 * SQLite: the contacts split in three counts, none of which sorts.
 * - Contacts with a recency row, month by month along contact_recency_institution (institution,
 *   recency_at): index entries only. A contact's recency row carries the contact's institution
 *   (every writer takes both from the same record), so these are the institution's contacts.
 * - Contacts without one, by creation month along contacts_created, each checked for a row. How
 *   many there are is known beforehand (the institution's contacts less its recency rows), so the
 *   walk stops once it has met them all, at once when every contact has a row.
 * - Anonymised stubs keep their recency row: their months are taken back out, read from the stubs.
 * Timestamps are ISO strings, so a month is a text range (recency-months.ts).
 */
async function histogramFromIndexRanges(db: Db, institutionId: string): Promise<MonthCount[]> {
  const withRecency = await countMonthByMonth(db, {
    firstMonthFrom: (from) => sql`select substr(min(recency_at), 1, 7) as month from contact_recency where institution_id = ${institutionId} and recency_at >= ${from}`,
    countIn: (from, to) => sql`select count(*) as seen, count(*) as n from contact_recency where institution_id = ${institutionId} and recency_at >= ${from} and recency_at < ${to}`,
  });
  const contacts = await sql<{ n: number }>`select count(*) as n from contacts where institution_id = ${institutionId}`.execute(db);
  const withoutRow = Number(contacts.rows[0].n) - withRecency.reduce((sum, m) => sum + m.contacts, 0);
  const withoutRecency = await countMonthByMonth(
    db,
    {
      firstMonthFrom: (from) => sql`select substr(min(created_at), 1, 7) as month from contacts where institution_id = ${institutionId} and created_at >= ${from}`,
      // seen: every contact without a row (what the walk is looking for); n: those not anonymised.
      countIn: (from, to) => sql`select count(*) as seen, count(*) - count(a.stub_id) as n
        from contacts c left join anonymised_contacts a on a.stub_id = c.id
        where c.institution_id = ${institutionId} and c.created_at >= ${from} and c.created_at < ${to}
          and not exists (select 1 from contact_recency r where r.contact_id = c.id)`,
    },
    withoutRow,
  );
  // CROSS JOIN keeps the stubs as the outer loop: their number, not the institution's contacts, sets the cost.
  const stubs = await sql<{ month: string; n: number }>`
    select substr(r.recency_at, 1, 7) as month, count(*) as n
    from anonymised_contacts a cross join contact_recency r on r.contact_id = a.stub_id
    where r.institution_id = ${institutionId}
    group by 1`.execute(db);
  return combineMonthCounts(
    [withRecency, withoutRecency],
    stubs.rows.map((r) => ({ month: r.month, contacts: Number(r.n) })),
  );
}

interface MonthRanges {
  /** the first month (YYYY-MM) of a timestamp at or after `from`, or null */
  firstMonthFrom(from: string): RawBuilder<unknown>;
  /** rows with a timestamp in [from, to): `seen` all of them, `n` those the histogram counts */
  countIn(from: string, to: string): RawBuilder<unknown>;
}

/**
 * Skips from one month present to the next by index seeks, so months without a row cost nothing;
 * stops early once `expected` rows have been seen.
 */
async function countMonthByMonth(db: Db, ranges: MonthRanges, expected = Infinity): Promise<MonthCount[]> {
  const counts: MonthCount[] = [];
  let seen = 0;
  for (let from = ''; seen < expected; ) {
    const first = await ranges.firstMonthFrom(from).execute(db);
    const month = (first.rows[0] as { month: string | null } | undefined)?.month ?? null;
    if (month === null) break;
    from = stringAfterPrefix(month);
    const counted = (await ranges.countIn(month, from).execute(db)).rows[0] as { seen: number; n: number };
    seen += Number(counted.seen);
    counts.push({ month, contacts: Number(counted.n) });
  }
  return counts;
}
