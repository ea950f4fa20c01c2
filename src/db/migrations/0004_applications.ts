import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.ts';

/** Application forms, the applications they receive, and the emailed codes that verify them. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);

  await db.schema
    .createTable('application_forms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('job_board', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('fields', t.json, (c) => c.notNull())
    // null: the institution's rule applies (and follows its changes)
    .addColumn('duplicate_rule', t.json)
    .addColumn('verification_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('merge_policy', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('application_forms_institution').on('application_forms').columns(['institution_id', 'created_at', 'id']).execute();

  // An application belongs to the contact it created or attached to; erasing the contact erases it.
  await db.schema
    .createTable('applications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('form_id', 'text', (c) => c.references('application_forms.id').onDelete('set null'))
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('status', 'text', (c) => c.notNull())
    // what the applicant entered (SSN as hashes only), sealed with the contact's data key
    .addColumn('submitted_enc', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('applications_contact').on('applications').columns(['contact_id', 'created_at']).execute();
  await db.schema.createIndex('applications_form').on('applications').columns(['form_id', 'created_at']).execute();
  await db.schema.createIndex('applications_status').on('applications').columns(['status', 'updated_at']).execute();

  await db.schema
    .createTable('application_verifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('application_id', 'text', (c) => c.notNull().unique().references('applications.id').onDelete('cascade'))
    // keyed hash of the current code, bound to this verification; the code itself is never stored
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('issued_at', t.timestamp, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resends', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('verified_at', t.timestamp)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('application_verifications').execute();
  await db.schema.dropTable('applications').execute();
  await db.schema.dropTable('application_forms').execute();
}
