import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.ts';

/**
 * The contact lifecycle: soft-deleted (disabled) contacts, archive memory, self-service codes and
 * sessions, the suppression list, bulk-job snapshots, and erasure webhooks.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);

  // A row here means the contact is disabled ("Delete Account" soft delete). Kept apart from
  // `contacts` so the directory's covering indexes and every writer of contact rows stay as they are;
  // the table is small, so "not disabled" is one probe of its primary key.
  await db.schema
    .createTable('disabled_contacts')
    .addColumn('contact_id', 'text', (c) => c.primaryKey().references('contacts.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('disabled_at', t.timestamp, (c) => c.notNull())
    .addColumn('disabled_by', 'text')
    .addColumn('via', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('disabled_contacts_institution').on('disabled_contacts').columns(['institution_id', 'contact_id']).execute();

  // What archiving changed, so reviving can put it back (ids and enum values only).
  await db.schema
    .createTable('contact_archives')
    .addColumn('contact_id', 'text', (c) => c.primaryKey().references('contacts.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('previous_employer_id', 'text', (c) => c.references('employers.id').onDelete('set null'))
    .addColumn('previous_visibility', 'text')
    .addColumn('set_employer', 'integer', (c) => c.notNull())
    .addColumn('set_do_not_email', 'integer', (c) => c.notNull())
    .addColumn('set_visibility', 'integer', (c) => c.notNull())
    .addColumn('archived_at', t.timestamp, (c) => c.notNull())
    .addColumn('archived_by', 'text')
    .execute();

  // One-time codes a contact requests to open their own profile: only a keyed hash is kept.
  await db.schema
    .createTable('contact_access_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('consumed_at', t.timestamp)
    .execute();
  await db.schema.createIndex('contact_access_codes_contact').on('contact_access_codes').columns(['contact_id', 'created_at']).execute();

  await db.schema
    .createTable('contact_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('contact_sessions_contact').on('contact_sessions').column('contact_id').execute();

  // Keyed hashes of the email and phone of expunged people, when the institution keeps the list.
  await db.schema
    .createTable('suppression_entries')
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('suppression_entries_pk', ['institution_id', 'kind', 'value_hash'])
    .execute();

  // Expunge confirmations still holding an address in the outbox: once each has left (or can never
  // leave), its row is removed and the storage compacted, so no copy of the address remains.
  await db.schema
    .createTable('erasure_notices')
    .addColumn('outbox_id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  // The contacts a bulk job acts on, fixed when it is queued: the preview count is the set the
  // job works through, and its filter (which may hold a name or an email) is never stored.
  await db.schema
    .createTable('bulk_job_items')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('bulk_job_items_pk', ['job_id', 'contact_id'])
    .execute();

  await db.schema
    .createTable('webhook_subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('events', t.json, (c) => c.notNull())
    // the signing secret, sealed with the server's master key: it must be readable to sign
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_by', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_subscriptions_institution').on('webhook_subscriptions').columns(['institution_id', 'created_at']).execute();

  // One row per event and subscriber: the delivery queue and its log (ids only, never PII).
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('subscription_id', 'text', (c) => c.notNull().references('webhook_subscriptions.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', t.json, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.timestamp, (c) => c.notNull())
    .addColumn('lease_expires_at', t.timestamp)
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('delivered_at', t.timestamp)
    .execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_subscription').on('webhook_deliveries').columns(['subscription_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'webhook_deliveries',
    'webhook_subscriptions',
    'bulk_job_items',
    'erasure_notices',
    'suppression_entries',
    'contact_sessions',
    'contact_access_codes',
    'contact_archives',
    'disabled_contacts',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
