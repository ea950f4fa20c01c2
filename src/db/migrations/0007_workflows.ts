import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.ts';

/** Workflows (F5): versioned definitions, durable enrollments and each step's history. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);

  await db.schema
    .createTable('workflows')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('current_version', 'integer', (c) => c.notNull())
    // the current version's trigger type, so the activity hook finds interested workflows with one index probe
    .addColumn('trigger_type', 'text', (c) => c.notNull())
    // schedule triggers: when the cron expression next fires (claimed by a conditional update, so once)
    .addColumn('next_fire_at', t.timestamp)
    .addColumn('created_by', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflows_trigger').on('workflows').columns(['institution_id', 'trigger_type', 'status']).execute();

  // Versions are immutable: an edit adds one, and running enrollments finish on theirs.
  await db.schema
    .createTable('workflow_versions')
    .addColumn('workflow_id', 'text', (c) => c.notNull().references('workflows.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('definition', t.json, (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_versions_pk', ['workflow_id', 'version'])
    .execute();

  // Ids, step names and states only (no PII). contact_id is set null when the contact is erased,
  // so the run stays visible as "ended" and the engine ends it on its next pass.
  await db.schema
    .createTable('workflow_enrollments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text', (c) => c.notNull().references('institutions.id').onDelete('cascade'))
    .addColumn('workflow_id', 'text', (c) => c.notNull().references('workflows.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.references('contacts.id').onDelete('set null'))
    .addColumn('state', 'text', (c) => c.notNull())
    // 1 while the enrollment is open (active or paused), null once it is over: with the unique
    // index below a contact is in a workflow at most once at a time, on both engines.
    .addColumn('open', 'integer')
    .addColumn('step_id', 'text')
    .addColumn('next_run_at', t.timestamp)
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', t.timestamp)
    .addColumn('trigger', 'text', (c) => c.notNull())
    // why it failed, ended or is being retried (no PII: codes, HTTP statuses, step names)
    .addColumn('reason', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('finished_at', t.timestamp)
    .execute();
  await db.schema.createIndex('workflow_enrollments_due').on('workflow_enrollments').columns(['state', 'next_run_at']).execute();
  await db.schema.createIndex('workflow_enrollments_contact').on('workflow_enrollments').columns(['contact_id', 'created_at']).execute();
  await db.schema.createIndex('workflow_enrollments_workflow').on('workflow_enrollments').columns(['workflow_id', 'state', 'id']).execute();
  // Open runs whose contact was erased (contact_id set null): the engine ends them each tick, and
  // this index holds only open rows, however many finished runs of erased contacts accumulate.
  await db.schema.createIndex('workflow_enrollments_open').on('workflow_enrollments').columns(['open', 'contact_id']).execute();
  await db.schema.createIndex('workflow_enrollments_once').unique().on('workflow_enrollments').columns(['workflow_id', 'contact_id', 'open']).execute();

  await db.schema
    .createTable('workflow_step_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('enrollment_id', 'text', (c) => c.notNull().references('workflow_enrollments.id').onDelete('cascade'))
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('step_type', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('ran_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflow_step_runs_enrollment').on('workflow_step_runs').columns(['enrollment_id', 'ran_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['workflow_step_runs', 'workflow_enrollments', 'workflow_versions', 'workflows']) await db.schema.dropTable(table).execute();
}
