import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);

  await db.schema
    .createTable('institutions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('settings', t.json, (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('organizations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('email_domains', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('csm_user_id', 'text')
    .addColumn('contract_ends_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('organizations_institution').on('organizations').columns(['institution_id', 'name']).execute();

  await db.schema
    .createTable('roles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('permissions', t.json, (c) => c.notNull())
    .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('roles_institution_key', ['institution_id', 'key'])
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.references('institutions.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role_id', 'text', (c) => c.references('roles.id'))
    .addColumn('platform_role', 'text')
    .addColumn('site_access', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_institution').on('users').columns(['institution_id', 'email']).execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .addColumn('revoked_at', t.timestamp)
    .execute();
  await db.schema.createIndex('api_tokens_institution').on('api_tokens').columns(['institution_id', 'created_at']).execute();

  await db.schema
    .createTable('employers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_folded', t.foldedText, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('employers_institution_name', ['institution_id', 'name_folded'])
    .execute();

  await db.schema
    .createTable('contacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('first_name_folded', t.foldedText, (c) => c.notNull())
    .addColumn('last_name_folded', t.foldedText, (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('email_normalized', t.foldedText)
    .addColumn('mobile_phone', 'text')
    .addColumn('mobile_e164', 'text')
    .addColumn('ssn_hash_full', 'text')
    .addColumn('ssn_hash_last6', 'text')
    .addColumn('ssn_hash_last4', 'text')
    .addColumn('employer_id', 'text', (c) => c.references('employers.id'))
    .addColumn('owner_user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('approval_status', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('opt_in_status', 'text', (c) => c.notNull())
    .addColumn('opt_in_changed_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  // Directory and duplicate look-ups: each is an index range scan within one institution.
  await db.schema.createIndex('contacts_email').on('contacts').columns(['institution_id', 'email_normalized']).execute();
  await db.schema.createIndex('contacts_mobile').on('contacts').columns(['institution_id', 'mobile_e164']).execute();
  // The directory walks these in order; carrying the visibility columns lets it skip contacts the
  // viewer may not see (and rejected ones) without reading their rows.
  const visibilityColumns = ['visibility', 'approval_status', 'owner_user_id'];
  await db.schema.createIndex('contacts_last_name').on('contacts').columns(['institution_id', 'last_name_folded', 'id', ...visibilityColumns]).execute();
  await db.schema.createIndex('contacts_first_name').on('contacts').columns(['institution_id', 'first_name_folded', 'id', ...visibilityColumns]).execute();
  await db.schema.createIndex('contacts_created').on('contacts').columns(['institution_id', 'created_at', 'id', ...visibilityColumns]).execute();
  await db.schema.createIndex('contacts_employer').on('contacts').columns(['employer_id']).execute();
  await db.schema.createIndex('contacts_ssn_full').on('contacts').columns(['institution_id', 'ssn_hash_full']).execute();

  await db.schema
    .createTable('contact_employments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('employer_id', 'text', (c) => c.notNull().references('employers.id').onDelete('cascade'))
    .addColumn('started_at', t.timestamp, (c) => c.notNull())
    .addColumn('ended_at', t.timestamp)
    .execute();
  await db.schema.createIndex('employments_contact').on('contact_employments').columns(['contact_id', 'started_at']).execute();
  await db.schema.createIndex('employments_employer').on('contact_employments').columns(['employer_id', 'ended_at']).execute();

  await db.schema
    .createTable('attribute_definitions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('options', t.json)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('attribute_definitions_key', ['institution_id', 'key'])
    .execute();

  await db.schema
    .createTable('contact_attribute_values')
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('attribute_id', 'text', (c) => c.notNull().references('attribute_definitions.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('value_text', 'text', (c) => c.notNull())
    .addColumn('value_number', 'double precision')
    .addPrimaryKeyConstraint('contact_attribute_values_pk', ['contact_id', 'attribute_id'])
    .execute();
  await db.schema
    .createIndex('attribute_values_lookup')
    .on('contact_attribute_values')
    .columns(['attribute_id', 'value_text', 'contact_id'])
    .execute();
  // Directory range filters on number and date attributes (attr.<key>.gte / .lte).
  await db.schema
    .createIndex('attribute_values_number')
    .on('contact_attribute_values')
    .columns(['attribute_id', 'value_number', 'contact_id'])
    .execute();

  await db.schema
    .createTable('contact_authorizations')
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('granted', 'integer', (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_authorizations_pk', ['contact_id', 'purpose'])
    .execute();

  for (const table of ['contact_notes', 'contact_meetings', 'contact_tasks'] as const) {
    let builder = db.schema
      .createTable(table)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('institution_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
      .addColumn('author_user_id', 'text', (c) => c.references('users.id').onDelete('set null'));
    if (table === 'contact_notes') builder = builder.addColumn('body', 'text', (c) => c.notNull());
    if (table === 'contact_meetings')
      builder = builder
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('scheduled_at', t.timestamp, (c) => c.notNull())
        .addColumn('notes', 'text');
    if (table === 'contact_tasks')
      builder = builder
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('due_at', t.timestamp)
        .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0));
    await builder
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema.createIndex(`${table}_contact`).on(table).columns(['contact_id', 'created_at']).execute();
  }

  await db.schema
    .createTable('activity_events')
    .addColumn('seq', t.serial, (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'text')
    .addColumn('actor_user_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('occurred_at', t.timestamp, (c) => c.notNull())
    .addColumn('data', t.json)
    .execute();
  // No foreign keys: an append-only table of 10M+ rows stays cheap to insert; erasure deletes by contact_id.
  await db.schema.createIndex('activity_contact').on('activity_events').columns(['contact_id', 'occurred_at']).execute();
  await db.schema.createIndex('activity_institution_type').on('activity_events').columns(['institution_id', 'type', 'occurred_at']).execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('seq', t.serial, (c) => c.primaryKey())
    .addColumn('chain', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text')
    .addColumn('actor_user_id', 'text')
    .addColumn('actor_label', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('subject_id', 'text')
    .addColumn('before_enc', 'text')
    .addColumn('after_enc', 'text')
    .addColumn('meta', t.json)
    .addColumn('occurred_at', t.timestamp, (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_chain').on('audit_log').columns(['chain', 'seq']).execute();
  await db.schema.createIndex('audit_institution_time').on('audit_log').columns(['institution_id', 'occurred_at']).execute();
  await db.schema.createIndex('audit_target').on('audit_log').columns(['target_id']).execute();

  await db.schema
    .createTable('audit_chain_heads')
    .addColumn('chain', 'text', (c) => c.primaryKey())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('last_hash', 'text', (c) => c.notNull())
    .addColumn('anchor_hash', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('data_keys')
    .addColumn('subject_id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text')
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer', (c) => c.notNull())
    .addColumn('resource_id', 'text')
    .addColumn('response_body', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_resource').on('idempotency_keys').column('resource_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('The foundation migration cannot be reverted; restore from a backup instead.');
}
