import { PostgresAdapter, sql } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import { rankOf } from './recency-rules.ts';

/**
 * Recomputes every contact's recency of one institution (or all) from the records themselves, in
 * one transaction: the same rules as recency-rules.ts, written as one set-based statement so a
 * rebuild over millions of events is one pass (every candidate date, the best per contact by date
 * then rank). Contacts with no qualifying event get no row: their recency is their creation date.
 */
export async function rebuildRecency(ctx: Pick<AppContext, 'db'>, institutionId: string | null): Promise<{ contacts: number }> {
  return ctx.db.transaction().execute((trx) => recomputeRecency(trx, { institutionId }));
}

/**
 * The rebuild's statement in the caller's transaction, for an institution, everything, or a few
 * contacts (after a merge has moved another contact's orders and activity onto the survivor).
 */
export async function recomputeRecency(db: Db, scopeOf: { institutionId: string | null; contactIds?: string[] }): Promise<{ contacts: number }> {
  const { institutionId, contactIds } = scopeOf;
  if (contactIds && contactIds.length === 0) return { contacts: 0 };
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const anyGranted = pg ? sql`(e.data::jsonb ->> 'anyGranted') = 'true'` : sql`json_extract(e.data, '$.anyGranted') = 1`;
  const scope = (column: string) => {
    const inst = institutionId ? sql`${sql.ref(column)} = ${institutionId}` : sql`1 = 1`;
    if (!contactIds) return inst;
    const contactColumn = column.replace(/institution_id$/, 'contact_id');
    return sql`${inst} and ${sql.ref(contactColumn)} in (${sql.join(contactIds)})`;
  };
  const r = (reason: Parameters<typeof rankOf>[0]) => sql.raw(`'${reason}' as reason, ${rankOf(reason)} as rank`);
  const activity = (type: string, reason: Parameters<typeof rankOf>[0], extra = sql`1 = 1`) =>
    sql`select e.contact_id, e.institution_id, e.occurred_at as at, ${r(reason)}, null as source_id from activity_events e where e.type = ${type} and ${scope('e.institution_id')} and ${extra}`;
  const candidates = sql`
    select o.contact_id, o.institution_id, o.acquired_at as at, ${r('option_acquired')}, o.id as source_id from ticket_options o where ${scope('o.institution_id')}
    union all
    select o.contact_id, o.institution_id, o.confirmed_at as at, ${r('option_confirmed')}, o.id as source_id from ticket_options o where o.confirmed_at is not null and ${scope('o.institution_id')}
    union all
    select oc.contact_id, oc.institution_id, coalesce(case when l.dated = 1 then l.validity_date end, o.ordered_at) as at, o.kind as reason,
      case when o.kind = 'sale' then ${sql.raw(String(rankOf('sale')))} else ${sql.raw(String(rankOf('reservation')))} end as rank, o.id as source_id
    from ticket_order_contacts oc join ticket_orders o on o.id = oc.order_id left join ticket_order_lines l on l.order_id = o.id
    where ${scope('oc.institution_id')}
    union all
    select w.contact_id, w.institution_id, w.added_at as at, ${r('waitlist')}, w.id as source_id from waitlist_entries w where ${scope('w.institution_id')}
    union all
    ${activity('link.clicked', 'link_click')}
    union all
    ${activity('contact.criterion_changed', 'criterion_change')}
    union all
    ${activity('consent.authorization_changed', 'authorization_change', anyGranted)}`;

  await db
    .deleteFrom('contact_recency')
    .$if(institutionId !== null, (q) => q.where('institution_id', '=', institutionId!))
    .$if(contactIds !== undefined, (q) => q.where('contact_id', 'in', contactIds!))
    .execute();
  const inserted = await sql`
    insert into contact_recency (contact_id, institution_id, recency_at, reason, rank, source_id)
    select contact_id, institution_id, at, reason, rank, source_id from (
      select c.*, row_number() over (partition by c.contact_id order by c.at desc, c.rank desc) as n from (${candidates}) c
    ) best
    where n = 1 and contact_id in (select id from contacts where ${institutionId ? sql`institution_id = ${institutionId}` : sql`1 = 1`})`.execute(db);
  return { contacts: Number(inserted.numAffectedRows ?? 0) };
}
