import { sql, type Kysely } from 'kysely';
import { engineOf } from '../engine.ts';

/**
 * What the inactive-contact batch and the recency rebuild read, arranged so they read it in one pass.
 *
 * The recency rebuild (src/retention/recency-rebuild.ts) reads every source from index entries:
 * - activity_recency: only the events that count for recency (partial), with their contact, date
 *   and type, so the largest source streams grouped by contact from one index. The predicate is the
 *   rebuild's own filter, written the same way, which is what lets SQLite use a partial index.
 * - ticket_orders_recency and ticket_order_lines_order (now covering): an order's kind and date and
 *   its lines' dates come from index entries read in order-id order.
 *
 * The batch (src/retention/inactive-selection.ts, inactive-report.ts):
 * - retention_run_items.organization_id: the snapshot notes each contact's organization as it reads
 *   the contact, so the report's per-organization table is counted from the snapshot alone.
 * - ticket_order_lines_beneficiary: only the lines whose beneficiary names are still to anonymise,
 *   so looking for them among a batch's orders skips every other line without reading it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const anyGranted = engineOf(db) === 'postgres' ? sql`(data::jsonb ->> 'anyGranted') = 'true'` : sql`json_extract(data, '$.anyGranted') = 1`;
  await sql`create index activity_recency on activity_events (institution_id, contact_id, occurred_at, type)
    where type in ('link.clicked', 'contact.criterion_changed') or (type = 'consent.authorization_changed' and ${anyGranted})`.execute(db);
  await db.schema.createIndex('ticket_orders_recency').on('ticket_orders').columns(['institution_id', 'id', 'kind', 'ordered_at']).execute();
  await db.schema.dropIndex('ticket_order_lines_order').execute();
  await db.schema.createIndex('ticket_order_lines_order').on('ticket_order_lines').columns(['order_id', 'dated', 'validity_date']).execute();
  await sql`create index ticket_order_lines_beneficiary on ticket_order_lines (order_id, institution_id)
    where beneficiary_last_name is not null and beneficiary_anonymised_at is null`.execute(db);
  await db.schema.alterTable('retention_run_items').addColumn('organization_id', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('retention_run_items').dropColumn('organization_id').execute();
  await db.schema.dropIndex('ticket_order_lines_beneficiary').execute();
  await db.schema.dropIndex('ticket_order_lines_order').execute();
  await db.schema.createIndex('ticket_order_lines_order').on('ticket_order_lines').columns(['order_id']).execute();
  await db.schema.dropIndex('ticket_orders_recency').execute();
  await db.schema.dropIndex('activity_recency').execute();
}
