/**
 * Month arithmetic of the inactive-contact report's histogram, as pure functions. A month is the
 * first seven characters of a timestamp (YYYY-MM, UTC), as the report has always named it.
 */

export interface MonthCount {
  month: string;
  contacts: number;
}

/**
 * The least string above every string that starts with `prefix` (its last character moved up by
 * one): the text range [prefix, stringAfterPrefix(prefix)) holds exactly the strings that start
 * with `prefix`, so the contacts of a month can be counted from an index range on the timestamp.
 * Months are ASCII, where SQLite's byte order and JavaScript's code-unit order agree.
 */
export function stringAfterPrefix(prefix: string): string {
  if (prefix === '') throw new Error('an empty prefix has no string after it');
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last >= 0x7f) throw new Error(`month prefixes are ASCII (got ${JSON.stringify(prefix)})`);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/**
 * Adds up month counts from disjoint sets of contacts and takes out those of `subtracted` (a subset
 * of what was added): months in order, and a month left with no contact dropped, as a GROUP BY
 * over the remaining contacts would have no row for it.
 */
export function combineMonthCounts(added: MonthCount[][], subtracted: MonthCount[] = []): MonthCount[] {
  const byMonth = new Map<string, number>();
  for (const part of added) for (const { month, contacts } of part) byMonth.set(month, (byMonth.get(month) ?? 0) + contacts);
  for (const { month, contacts } of subtracted) {
    const left = (byMonth.get(month) ?? 0) - contacts;
    if (left < 0) throw new Error(`month ${month}: ${contacts} taken out of ${left + contacts}`);
    byMonth.set(month, left);
  }
  return [...byMonth]
    .filter(([, contacts]) => contacts > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([month, contacts]) => ({ month, contacts }));
}
