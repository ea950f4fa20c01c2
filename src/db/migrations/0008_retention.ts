import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.ts';

/**
 * Retention (F6, seed 004): the ticketing records recency is computed from, each contact's recency,
 * the inactive-contact batch's runs and their snapshots, anonymised stubs, the keys support may use
 * during the log-retention period, and the schedules the worker keeps.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  const institution = (c: any) => c.notNull().references('institutions.id').onDelete('cascade');

  // Orders stay when their contacts are anonymised (accounting), so only the link rows name a contact.
  await db.schema
    .createTable('ticket_orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', institution)
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('external_ref', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ordered_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ticket_orders_ref').unique().on('ticket_orders').columns(['institution_id', 'external_ref']).execute();

  await db.schema
    .createTable('ticket_order_contacts')
    .addColumn('order_id', 'text', (c) => c.notNull().references('ticket_orders.id').onDelete('cascade'))
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ticket_order_contacts_pk', ['order_id', 'contact_id', 'role'])
    .execute();
  await db.schema.createIndex('ticket_order_contacts_contact').on('ticket_order_contacts').columns(['contact_id', 'order_id']).execute();

  // Beneficiaries are names on a ticket, not contacts: they live on the line and are anonymised in place.
  await db.schema
    .createTable('ticket_order_lines')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull().references('ticket_orders.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('dated', 'integer', (c) => c.notNull())
    .addColumn('validity_date', t.timestamp)
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('amount_cents', 'integer', (c) => c.notNull())
    .addColumn('beneficiary_first_name', 'text')
    .addColumn('beneficiary_last_name', 'text')
    .addColumn('beneficiary_anonymised_at', t.timestamp)
    .execute();
  await db.schema.createIndex('ticket_order_lines_order').on('ticket_order_lines').columns(['order_id']).execute();

  await db.schema
    .createTable('ticket_payments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull().references('ticket_orders.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'integer', (c) => c.notNull())
    .addColumn('paid_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ticket_payments_order').on('ticket_payments').columns(['order_id']).execute();

  await db.schema
    .createTable('ticket_options')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', institution)
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('external_ref', 'text', (c) => c.notNull())
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('acquired_at', t.timestamp, (c) => c.notNull())
    .addColumn('confirmed_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ticket_options_ref').unique().on('ticket_options').columns(['institution_id', 'external_ref']).execute();
  await db.schema.createIndex('ticket_options_contact').on('ticket_options').columns(['contact_id']).execute();

  await db.schema
    .createTable('waitlist_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', institution)
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('added_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('waitlist_entries_contact').on('waitlist_entries').columns(['contact_id']).execute();

  // No row: the contact's recency is its creation date. rank breaks ties between events of the same instant.
  await db.schema
    .createTable('contact_recency')
    .addColumn('contact_id', 'text', (c) => c.primaryKey().references('contacts.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('recency_at', t.timestamp, (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('rank', 'integer', (c) => c.notNull())
    .addColumn('source_id', 'text')
    .execute();
  await db.schema.createIndex('contact_recency_institution').on('contact_recency').columns(['institution_id', 'recency_at']).execute();

  // stub_id, not contact_id: merging moves every contact_id column to the survivor, and a contact
  // merged with a stub must not become one.
  await db.schema
    .createTable('anonymised_contacts')
    .addColumn('stub_id', 'text', (c) => c.primaryKey().references('contacts.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('anonymised_at', t.timestamp, (c) => c.notNull())
    .addColumn('run_id', 'text')
    .execute();

  await db.schema
    .createTable('retention_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', institution)
    .addColumn('job_id', 'text')
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('months', 'integer', (c) => c.notNull())
    .addColumn('as_of', t.timestamp, (c) => c.notNull())
    .addColumn('cutoff', t.timestamp, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('report', t.json)
    .addColumn('requested_by', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('finished_at', t.timestamp)
    .execute();
  await db.schema.createIndex('retention_runs_institution').on('retention_runs').columns(['institution_id', 'created_at']).execute();

  // Ids and outcomes only: the snapshot survives the contacts it names.
  await db.schema
    .createTable('retention_run_items')
    .addColumn('run_id', 'text', (c) => c.notNull().references('retention_runs.id').onDelete('cascade'))
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('done', 'text')
    .addPrimaryKeyConstraint('retention_run_items_pk', ['run_id', 'contact_id'])
    .execute();

  // One row per institution while a run holds the batch.
  await db.schema
    .createTable('retention_locks')
    .addColumn('institution_id', 'text', (c) => c.primaryKey().references('institutions.id').onDelete('cascade'))
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('acquired_at', t.timestamp, (c) => c.notNull())
    .execute();

  // An anonymised contact's data key, moved out of data_keys so only support can open its audit entries.
  await db.schema
    .createTable('retention_support_keys')
    .addColumn('subject_id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('anonymised_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('retention_support_keys_expiry').on('retention_support_keys').columns(['expires_at']).execute();

  await db.schema
    .createTable('retention_schedules')
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('next_run_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('retention_schedules_pk', ['institution_id', 'kind'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'retention_schedules',
    'retention_support_keys',
    'retention_locks',
    'retention_run_items',
    'retention_runs',
    'anonymised_contacts',
    'contact_recency',
    'waitlist_entries',
    'ticket_options',
    'ticket_payments',
    'ticket_order_lines',
    'ticket_order_contacts',
    'ticket_orders',
  ])
    await db.schema.dropTable(table).execute();
}
