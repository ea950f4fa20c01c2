import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.ts';
import { engineOf } from '../engine.ts';

/** Bulk CSV imports (with their uploaded file and error report) and the possible-duplicates queue. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  const blob = engineOf(db) === 'postgres' ? 'bytea' : 'blob';

  await db.schema
    .createTable('imports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
    .addColumn('job_id', 'text')
    .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('actor_label', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('file_bytes', 'bigint', (c) => c.notNull())
    .addColumn('file_sha256', 'text', (c) => c.notNull())
    .addColumn('storage', 'text', (c) => c.notNull())
    .addColumn('file_path', 'text')
    .addColumn('mapping', t.json, (c) => c.notNull())
    .addColumn('columns', t.json)
    .addColumn('on_duplicate', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('rows_total', 'bigint')
    .addColumn('rows_done', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('duplicate_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('invalid_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('suppressed_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('blank_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('started_at', t.timestamp)
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('finished_at', t.timestamp)
    .execute();
  await db.schema.createIndex('imports_institution').on('imports').columns(['institution_id', 'created_at']).execute();
  await db.schema.createIndex('imports_file').on('imports').columns(['institution_id', 'file_sha256', 'status']).execute();

  // An uploaded file, in order, so any worker process can stream it; deleted when the import ends.
  await db.schema
    .createTable('import_file_chunks')
    .addColumn('import_id', 'text', (c) => c.notNull().references('imports.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .addPrimaryKeyConstraint('import_file_chunks_pk', ['import_id', 'seq'])
    .execute();

  // The error report: written in the same transaction as the chunk it belongs to, so a resumed
  // import neither loses nor repeats a line. Messages never repeat the rejected value.
  await db.schema
    .createTable('import_errors')
    .addColumn('import_id', 'text', (c) => c.notNull().references('imports.id').onDelete('cascade'))
    .addColumn('row_number', 'bigint', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_errors_pk', ['import_id', 'row_number', 'seq'])
    .execute();

  await db.schema
    .createTable('possible_duplicates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    // a < b, so each pair is stored once; erasing either contact removes the pair
    .addColumn('contact_a_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('contact_b_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('reasons', t.json, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('dismissed_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('dismissed_at', t.timestamp)
    .addUniqueConstraint('possible_duplicates_pair', ['contact_a_id', 'contact_b_id'])
    .execute();
  await db.schema.createIndex('possible_duplicates_queue').on('possible_duplicates').columns(['institution_id', 'status', 'score', 'id']).execute();
  await db.schema.createIndex('possible_duplicates_b').on('possible_duplicates').column('contact_b_id').execute();

  // Possible duplicates start from people with the same folded full name: an index range per name.
  await db.schema.createIndex('contacts_full_name').on('contacts').columns(['institution_id', 'last_name_folded', 'first_name_folded', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('contacts_full_name').execute();
  await db.schema.dropTable('possible_duplicates').execute();
  await db.schema.dropTable('import_errors').execute();
  await db.schema.dropTable('import_file_chunks').execute();
  await db.schema.dropTable('imports').execute();
}
