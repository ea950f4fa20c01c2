import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.ts';

/** Projects, sequences, exports (with their one-time keys) and subject-access verification codes. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);

  // Named lists of contacts with an owner.
  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('owner_user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('projects_institution').on('projects').columns(['institution_id', 'organization_id', 'id']).execute();

  await db.schema
    .createTable('project_contacts')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    // erasing a contact removes it from every project
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('added_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('added_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('project_contacts_pk', ['project_id', 'contact_id'])
    .execute();
  await db.schema.createIndex('project_contacts_contact').on('project_contacts').column('contact_id').execute();

  // Multi-step outreach emails, the contacts enrolled in them and each step's status per contact.
  await db.schema
    .createTable('sequences')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('owner_user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sequences_institution').on('sequences').columns(['institution_id', 'organization_id', 'id']).execute();

  await db.schema
    .createTable('sequence_steps')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sequence_id', 'text', (c) => c.notNull().references('sequences.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('delay_days', 'integer', (c) => c.notNull())
    .addUniqueConstraint('sequence_steps_position', ['sequence_id', 'position'])
    .execute();

  await db.schema
    .createTable('sequence_enrollments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sequence_id', 'text', (c) => c.notNull().references('sequences.id').onDelete('cascade'))
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('enrolled_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('enrolled_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('sequence_enrollments_contact', ['sequence_id', 'contact_id'])
    .execute();
  await db.schema.createIndex('sequence_enrollments_contact_idx').on('sequence_enrollments').column('contact_id').execute();

  await db.schema
    .createTable('sequence_step_statuses')
    .addColumn('enrollment_id', 'text', (c) => c.notNull().references('sequence_enrollments.id').onDelete('cascade'))
    .addColumn('step_id', 'text', (c) => c.notNull().references('sequence_steps.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('sequence_step_statuses_pk', ['enrollment_id', 'step_id'])
    .execute();

  // One row per export, self-serve, requested or subject access; it outlives its file (which is
  // destroyed after delivery or at expiry) as the record of what happened, with no PII left in it.
  await db.schema
    .createTable('exports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('scope', t.json, (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('agency', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('requested_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('requester_label', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text')
    .addColumn('deliver_to', 'text', (c) => c.notNull())
    .addColumn('viewer', t.json, (c) => c.notNull())
    .addColumn('approver_role', 'text')
    .addColumn('decided_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('decided_at', t.timestamp)
    .addColumn('decision_note', 'text')
    .addColumn('refusal_rule', 'text')
    .addColumn('refusal_message', 'text')
    .addColumn('job_id', 'text')
    .addColumn('row_count', 'bigint')
    .addColumn('file_bytes', 'bigint')
    .addColumn('token_hash', 'text', (c) => c.unique())
    .addColumn('link_expires_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('ready_at', t.timestamp)
    .addColumn('downloaded_at', t.timestamp)
    .addColumn('destroyed_at', t.timestamp)
    .execute();
  await db.schema.createIndex('exports_institution').on('exports').columns(['institution_id', 'created_at']).execute();
  await db.schema.createIndex('exports_status').on('exports').columns(['status', 'link_expires_at']).execute();
  await db.schema.createIndex('exports_contact').on('exports').column('contact_id').execute();

  // The per-export file key, wrapped by the server's master key; deleted the moment the file is delivered or expires.
  await db.schema
    .createTable('export_keys')
    .addColumn('export_id', 'text', (c) => c.primaryKey().references('exports.id').onDelete('cascade'))
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  // A person asking for their own data proves their address with a code; only keyed hashes are kept.
  await db.schema
    .createTable('subject_access_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('email_hash', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('issued_at', t.timestamp, (c) => c.notNull())
    .addColumn('verified_at', t.timestamp)
    .addColumn('export_id', 'text')
    .execute();
  await db.schema.createIndex('subject_access_email').on('subject_access_requests').columns(['institution_id', 'email_hash', 'issued_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'subject_access_requests',
    'export_keys',
    'exports',
    'sequence_step_statuses',
    'sequence_enrollments',
    'sequence_steps',
    'sequences',
    'project_contacts',
    'projects',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
