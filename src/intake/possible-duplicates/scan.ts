import type { AppContext, Db } from '../../context.ts';
import { newId } from '../../ids.ts';
import { compareSimilarNames, pairsInGroup, type FuzzyContact } from './fuzzy.ts';

/**
 * Fills the possible-duplicates queue. A full scan walks the institution's contacts in folded-name
 * order (the contacts_full_name index), so people with the same name arrive together and each
 * same-name group is compared pair by pair; then it walks them by email, by mobile and by
 * employer, comparing the close-but-different names inside each household or employer. An
 * incremental scan (after an import) starts from the contacts created since a moment and
 * compares each with its same-name group and with the people sharing its email, mobile or
 * employer under an equal first or last name, all found by index look-ups. Pairs a person
 * dismissed stay dismissed; open ones get their score refreshed.
 */

const PAGE = 5000;
/** Beyond this many people with one folded name (a very common name), only the first ones are compared. */
export const MAX_GROUP = 500;

/** Where close names are compared: a household (email, mobile) or an employer. */
const sharedKeys = ['email_normalized', 'mobile_e164', 'employer_id'] as const;
type SharedKey = (typeof sharedKeys)[number];

type Row = { id: string; first_name_folded: string; last_name_folded: string; email_normalized: string | null; mobile_e164: string | null; employer_id: string | null };
const columns = ['id', 'first_name_folded', 'last_name_folded', 'email_normalized', 'mobile_e164', 'employer_id'] as const;

const fuzzy = (r: Row): FuzzyContact => ({
  id: r.id,
  firstNameFolded: r.first_name_folded,
  lastNameFolded: r.last_name_folded,
  emailNormalized: r.email_normalized,
  mobileE164: r.mobile_e164,
  employerId: r.employer_id,
});

export interface ScanResult {
  contactsScanned: number;
  groups: number;
  pairs: number;
}

async function savePairs(db: Db, institutionId: string, groups: Row[][], now: string, compare?: typeof compareSimilarNames): Promise<number> {
  const rows = groups.flatMap((g) =>
    pairsInGroup(g.slice(0, MAX_GROUP).map(fuzzy), compare).map((p) => ({
      id: newId(),
      institution_id: institutionId,
      contact_a_id: p.a,
      contact_b_id: p.b,
      score: p.score,
      reasons: JSON.stringify(p.reasons),
      status: 'open' as const,
      created_at: now,
      updated_at: now,
      dismissed_by: null,
      dismissed_at: null,
    })),
  );
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto('possible_duplicates')
      .values(rows.slice(i, i + 500))
      .onConflict((oc) =>
        oc
          .columns(['contact_a_id', 'contact_b_id'])
          .doUpdateSet((eb) => ({ score: eb.ref('excluded.score'), reasons: eb.ref('excluded.reasons'), updated_at: eb.ref('excluded.updated_at') }))
          .where('possible_duplicates.status', '=', 'open'),
      )
      .execute();
  }
  return rows.length;
}

/** Consecutive rows with the same key, as groups (rows arrive sorted by that key). */
function groupRuns(rows: Row[], same: (a: Row, b: Row) => boolean): Row[][] {
  const groups: Row[][] = [];
  for (const r of rows) {
    const last = groups[groups.length - 1];
    if (last && same(last[0], r)) last.push(r);
    else groups.push([r]);
  }
  return groups;
}

const sameName = (a: Row, b: Row) => a.last_name_folded === b.last_name_folded && a.first_name_folded === b.first_name_folded;
const groupByName = (rows: Row[]) => groupRuns(rows, sameName);

/** Full pass over one shared key, in (key, id) order; a group at the end of a page waits for the next. */
async function scanSharedKey(ctx: Pick<AppContext, 'db' | 'clock'>, institutionId: string, key: SharedKey, result: ScanResult): Promise<void> {
  let after: [string, string] | null = null;
  let carry: Row[] = [];
  for (;;) {
    let q = ctx.db.selectFrom('contacts').select(columns).where('institution_id', '=', institutionId).where(key, 'is not', null);
    if (after) q = q.where((eb) => eb(eb.refTuple(key, 'id'), '>', eb.tuple(after![0], after![1])));
    const page = await q.orderBy(key).orderBy('id').limit(PAGE).execute();
    const groups = groupRuns([...carry, ...page], (a, b) => a[key] === b[key]);
    carry = page.length === PAGE ? (groups.pop() ?? []) : [];
    const complete = groups.filter((g) => g.length > 1);
    result.groups += complete.length;
    result.pairs += await savePairs(ctx.db, institutionId, complete, ctx.clock.now().toISOString(), compareSimilarNames);
    if (page.length < PAGE) break;
    const last = page[page.length - 1];
    after = [last[key]!, last.id];
    if (carry.length > MAX_GROUP) carry = carry.slice(0, MAX_GROUP);
  }
}

/**
 * Incremental: the people sharing a key with some new contacts, restricted to those with an equal
 * first or last name (close names need one equal part), so a big employer is not read whole.
 */
async function sharedKeyGroupsOf(db: Db, institutionId: string, fresh: Row[], key: SharedKey): Promise<Row[][]> {
  // Members are collected by id first: a key shared by contacts of two slices is one group, once.
  const members = new Map<string, Row>();
  for (let i = 0; i < fresh.length; i += 300) {
    const slice = fresh.slice(i, i + 300);
    const values = [...new Set(slice.map((r) => r[key]).filter((v): v is string => v !== null))];
    if (!values.length) continue;
    const lastNames = [...new Set(slice.map((r) => r.last_name_folded))];
    const firstNames = [...new Set(slice.map((r) => r.first_name_folded))];
    const rows = await db
      .selectFrom('contacts')
      .select(columns)
      .where('institution_id', '=', institutionId)
      .where(key, 'in', values)
      .where((eb) => eb.or([eb('last_name_folded', 'in', lastNames), eb('first_name_folded', 'in', firstNames)]))
      .execute();
    for (const r of rows) members.set(r.id, r);
  }
  const sorted = [...members.values()].sort((a, b) => (a[key]! < b[key]! ? -1 : a[key]! > b[key]! ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return groupRuns(sorted, (a, b) => a[key] === b[key]).filter((g) => g.length > 1);
}

export async function scanPossibleDuplicates(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  institutionId: string,
  opts: { since?: string | null; onProgress?: (scanned: number) => Promise<void> | void } = {},
): Promise<ScanResult> {
  const result: ScanResult = { contactsScanned: 0, groups: 0, pairs: 0 };
  const now = () => ctx.clock.now().toISOString();

  if (opts.since) {
    // Incremental: the contacts created since `since`, a page at a time, each with its name group.
    let after: [string, string] | null = null;
    for (;;) {
      let q = ctx.db.selectFrom('contacts').select([...columns, 'created_at']).where('institution_id', '=', institutionId).where('created_at', '>=', opts.since);
      if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after![0], after![1])));
      const page = await q.orderBy('created_at').orderBy('id').limit(PAGE).execute();
      if (page.length === 0) break;
      const names = new Map<string, [string, string]>();
      for (const p of page) names.set(`${p.last_name_folded}\u0000${p.first_name_folded}`, [p.last_name_folded, p.first_name_folded]);
      const list = [...names.values()];
      const members: Row[] = [];
      for (let i = 0; i < list.length; i += 300) {
        const slice = list.slice(i, i + 300);
        members.push(
          ...(await ctx.db
            .selectFrom('contacts')
            .select(columns)
            .where('institution_id', '=', institutionId)
            .where((eb) => eb(eb.refTuple('last_name_folded', 'first_name_folded'), 'in', slice.map(([l, f]) => eb.tuple(l, f))))
            .orderBy('last_name_folded')
            .orderBy('first_name_folded')
            .orderBy('id')
            .execute()),
        );
      }
      const groups = groupByName(members).filter((g) => g.length > 1);
      result.groups += groups.length;
      result.pairs += await savePairs(ctx.db, institutionId, groups, now());
      for (const key of sharedKeys) {
        const shared = await sharedKeyGroupsOf(ctx.db, institutionId, page, key);
        result.groups += shared.length;
        result.pairs += await savePairs(ctx.db, institutionId, shared, now(), compareSimilarNames);
      }
      result.contactsScanned += page.length;
      await opts.onProgress?.(result.contactsScanned);
      const last = page[page.length - 1];
      after = [last.created_at, last.id];
    }
    return result;
  }

  // Full scan in name order; a group that reaches the end of a page waits for the next page.
  let after: [string, string, string] | null = null;
  let carry: Row[] = [];
  for (;;) {
    let q = ctx.db.selectFrom('contacts').select(columns).where('institution_id', '=', institutionId);
    if (after) q = q.where((eb) => eb(eb.refTuple('last_name_folded', 'first_name_folded', 'id'), '>', eb.tuple(after![0], after![1], after![2])));
    const page = await q.orderBy('last_name_folded').orderBy('first_name_folded').orderBy('id').limit(PAGE).execute();
    const groups = groupByName([...carry, ...page]);
    carry = page.length === PAGE ? (groups.pop() ?? []) : [];
    const complete = groups.filter((g) => g.length > 1);
    result.groups += complete.length;
    result.pairs += await savePairs(ctx.db, institutionId, complete, now());
    result.contactsScanned += page.length;
    await opts.onProgress?.(result.contactsScanned);
    if (page.length < PAGE) break;
    const last = page[page.length - 1];
    after = [last.last_name_folded, last.first_name_folded, last.id];
    // A giant group is compared on its first MAX_GROUP members only; keep the carry bounded.
    if (carry.length > MAX_GROUP) carry = carry.slice(0, MAX_GROUP);
  }
  for (const key of sharedKeys) await scanSharedKey(ctx, institutionId, key, result);
  return result;
}
