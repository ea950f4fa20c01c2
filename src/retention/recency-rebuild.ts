import { sql, type RawBuilder } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import { rankOf, recencyReasons, type RecencyReason } from './recency-rules.ts';
import { engineOf } from '../db/engine.ts';

/**
 * Recomputes every contact's recency of one institution (or all) from the records themselves, in
 * one transaction: the same rules as recency-rules.ts, written set-based so a rebuild over millions
 * of events is one pass (every candidate date, the best per contact by date then rank). Contacts
 * with no qualifying event get no row: their recency is their creation date.
 */
export async function rebuildRecency(ctx: Pick<AppContext, 'db'>, institutionId: string | null): Promise<{ contacts: number }> {
  return ctx.db.transaction().execute((trx) => recomputeRecency(trx, { institutionId }));
}

/** One source of candidate dates: which contact, which date, which rank, which record. */
interface Candidates {
  contact: string;
  institution: string;
  at: RawBuilder<unknown>;
  rank: RawBuilder<unknown>;
  source: RawBuilder<unknown>;
  from: RawBuilder<unknown>;
  where: RawBuilder<unknown>;
}

const rank = (reason: RecencyReason) => sql.raw(String(rankOf(reason)));
// The rank is carried as one digit in SQLite's sort key (see bestPerContactSqlite).
if (recencyReasons.length > 10) throw new Error('recency ranks must stay single digits');
const reasonOfRank = (rankExpr: RawBuilder<unknown>) => sql`case ${rankExpr} ${sql.join(recencyReasons.map((r) => sql.raw(`when ${rankOf(r)} then '${r}'`)), sql.raw(' '))} end`;

/**
 * The candidate sources, in the rules' terms (recency-rules.ts candidatesOf): options (acquired,
 * confirmed), orders (each line's validity date for a dated product, else the order date; an order
 * without lines at its order date), waiting lists, and the activity that counts. `scope` filters
 * a source by its institution (and contacts) column. The activity filter is written exactly as the
 * partial index activity_recency (migration 0010) so SQLite reads the events from that index.
 */
function candidateSources(pg: boolean, scope: (institutionColumn: string, contactColumn: string) => RawBuilder<unknown>): Candidates[] {
  const anyGranted = pg ? sql`(data::jsonb ->> 'anyGranted') = 'true'` : sql`json_extract(data, '$.anyGranted') = 1`;
  return [
    {
      contact: 'o.contact_id', institution: 'o.institution_id', at: sql`o.acquired_at`, rank: rank('option_acquired'), source: sql`o.id`,
      from: sql`ticket_options o`, where: scope('o.institution_id', 'o.contact_id'),
    },
    {
      contact: 'o.contact_id', institution: 'o.institution_id', at: sql`o.confirmed_at`, rank: rank('option_confirmed'), source: sql`o.id`,
      from: sql`ticket_options o`, where: sql`o.confirmed_at is not null and ${scope('o.institution_id', 'o.contact_id')}`,
    },
    {
      contact: 'oc.contact_id', institution: 'o.institution_id', at: sql`coalesce(case when l.dated = 1 then l.validity_date end, o.ordered_at)`,
      rank: sql`case when o.kind = 'sale' then ${rank('sale')} else ${rank('reservation')} end`, source: sql`o.id`,
      from: sql`ticket_orders o join ticket_order_contacts oc on oc.order_id = o.id left join ticket_order_lines l on l.order_id = o.id`,
      where: scope('o.institution_id', 'oc.contact_id'),
    },
    {
      contact: 'w.contact_id', institution: 'w.institution_id', at: sql`w.added_at`, rank: rank('waitlist'), source: sql`w.id`,
      from: sql`waitlist_entries w`, where: scope('w.institution_id', 'w.contact_id'),
    },
    {
      contact: 'e.contact_id', institution: 'e.institution_id', at: sql`e.occurred_at`,
      rank: sql`case e.type when 'link.clicked' then ${rank('link_click')} when 'contact.criterion_changed' then ${rank('criterion_change')} else ${rank('authorization_change')} end`,
      source: sql`null`, from: sql`activity_events e`,
      where: sql`(type in ('link.clicked', 'contact.criterion_changed') or (type = 'consent.authorization_changed' and ${anyGranted})) and ${scope('e.institution_id', 'e.contact_id')}`,
    },
  ];
}

/**
 * The rebuild's statement in the caller's transaction, for an institution, everything, or a few
 * contacts (after a merge has moved another contact's orders and activity onto the survivor).
 */
export async function recomputeRecency(db: Db, scopeOf: RebuildScope): Promise<{ contacts: number }> {
  const { institutionId, contactIds } = scopeOf;
  if (contactIds && contactIds.length === 0) return { contacts: 0 };
  const pg = engineOf(db) === 'postgres';
  // A whole-institution rebuild on SQLite refills the table in key order with its secondary index
  // dropped, then builds the index in one sorted pass (the transaction hides both from readers).
  const bulk = !pg && !contactIds;
  if (bulk) await sql`drop index contact_recency_institution`.execute(db);
  await db
    .deleteFrom('contact_recency')
    .$if(institutionId !== null, (q) => q.where('institution_id', '=', institutionId!))
    .$if(contactIds !== undefined, (q) => q.where('contact_id', 'in', contactIds!))
    .execute();
  // Records of a contact that no longer exists are skipped (activity events have no foreign key).
  const inserted = await sql`
    insert into contact_recency (contact_id, institution_id, recency_at, reason, rank, source_id)
    select b.contact_id, b.institution_id, b.at, ${reasonOfRank(sql`b.rank`)}, b.rank, b.source_id
    from (${bestRecencyPerContact(db, scopeOf)}) b
    where exists (select 1 from contacts c where c.id = b.contact_id)`.execute(db);
  if (bulk) await sql`create index contact_recency_institution on contact_recency (institution_id, recency_at)`.execute(db);
  return { contacts: Number(inserted.numAffectedRows ?? 0) };
}

export interface RebuildScope {
  institutionId: string | null;
  contactIds?: string[];
}

/** Each contact's best candidate (institution_id, contact_id, at, rank, source_id) within the scope. */
export function bestRecencyPerContact(db: Db, { institutionId, contactIds }: RebuildScope): RawBuilder<unknown> {
  const pg = engineOf(db) === 'postgres';
  const scope = (institutionColumn: string, contactColumn: string) => {
    const inst = institutionId ? sql`${sql.ref(institutionColumn)} = ${institutionId}` : sql`1 = 1`;
    return contactIds ? sql`${inst} and ${sql.ref(contactColumn)} in (${sql.join(contactIds)})` : inst;
  };
  const sources = candidateSources(pg, scope);
  return pg ? bestPerContactPostgres(sources) : bestPerContactSqlite(sources);
}

/** PostgreSQL: every candidate, the first per contact by date then rank (a hash of contacts, no order needed). */
function bestPerContactPostgres(sources: Candidates[]) {
  const all = sql.join(
    sources.map((s) => sql`select ${sql.ref(s.contact)} as contact_id, ${sql.ref(s.institution)} as institution_id, ${s.at} as at, ${s.rank} as rank, ${s.source} as source_id from ${s.from} where ${s.where}`),
    sql` union all `,
  );
  return sql`select distinct on (contact_id) contact_id, institution_id, at, rank, source_id from (${all}) c order by contact_id, at desc, rank desc`;
}

/**
 * SQLite: each source yields its candidates ordered by (institution, contact), which the indexes
 * give without sorting except for orders (read in order-id order, then sorted once); the sources are
 * merged in that order and each contact's best is the max of one sort key, date + rank + record,
 * so the grouping streams and the rows come out in the table's key order. A timestamp is an ISO-8601
 * string, so the key compares as the rules do: later date first, then the higher rank.
 */
function bestPerContactSqlite(sources: Candidates[]) {
  const arms = sql.join(
    sources.map((s) => sql`select ${sql.ref(s.institution)} as institution_id, ${sql.ref(s.contact)} as contact_id, ${s.at} || ' ' || ${s.rank} || coalesce(${s.source}, '') as k from ${s.from} where ${s.where}`),
    sql` union all `,
  );
  const separator = sql`instr(k, ' ')`;
  return sql`select institution_id, contact_id, substr(k, 1, ${separator} - 1) as at, cast(substr(k, ${separator} + 1, 1) as integer) as rank, nullif(substr(k, ${separator} + 2), '') as source_id
    from (select institution_id, contact_id, max(k) as k from (${arms} order by 1, 2) group by 1, 2)`;
}
