import type { AppContext, Db } from '../context.ts';
import type { WorkflowEnrollmentState, WorkflowStatus } from '../db/schema.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { newId } from '../ids.ts';
import { conflict, notFound } from '../http/problem.ts';
import type { Definition } from './definition.ts';
import { validateDefinition } from './validate.ts';
import { loadVersion } from './versions.ts';
import { nextFireAt } from './schedule.ts';

export interface WorkflowView {
  id: string;
  name: string;
  status: WorkflowStatus;
  version: number;
  definition: Definition;
  enrollments: Partial<Record<WorkflowEnrollmentState, number>>;
  createdAt: string;
  updatedAt: string;
}

async function workflowRow(db: Db, institutionId: string, id: string) {
  const row = await db.selectFrom('workflows').selectAll().where('institution_id', '=', institutionId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Workflow');
  return row;
}

async function viewOf(db: Db, row: Awaited<ReturnType<typeof workflowRow>>): Promise<WorkflowView> {
  const counts = await db
    .selectFrom('workflow_enrollments')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('workflow_id', '=', row.id)
    .groupBy('state')
    .execute();
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    version: row.current_version,
    definition: await loadVersion(db, row.id, row.current_version),
    enrollments: Object.fromEntries(counts.map((c) => [c.state, Number(c.n)])),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function getWorkflow(db: Db, institutionId: string, id: string): Promise<WorkflowView> {
  return viewOf(db, await workflowRow(db, institutionId, id));
}

export async function listWorkflows(db: Db, institutionId: string): Promise<WorkflowView[]> {
  const rows = await db.selectFrom('workflows').selectAll().where('institution_id', '=', institutionId).orderBy('created_at').orderBy('id').execute();
  return Promise.all(rows.map((r) => viewOf(db, r)));
}

export async function createWorkflow(ctx: AppContext, institutionId: string, input: unknown, actor: Actor): Promise<WorkflowView> {
  const definition = await validateDefinition(ctx.db, institutionId, input);
  const now = ctx.clock.now().toISOString();
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('workflows')
      .values({
        id,
        institution_id: institutionId,
        name: definition.name,
        status: 'active',
        current_version: 1,
        trigger_type: definition.trigger.type,
        next_fire_at: nextFireAt(definition.trigger, ctx.clock.now()),
        created_by: actor.userId,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await trx.insertInto('workflow_versions').values({ workflow_id: id, version: 1, definition: JSON.stringify(definition), created_by: actor.userId, created_at: now }).execute();
    await recordAudit(ctx, trx, { institutionId, actor, action: 'workflow.create', target: { type: 'workflow', id }, meta: { version: 1, trigger: definition.trigger.type } });
  });
  return getWorkflow(ctx.db, institutionId, id);
}

/** An edit is a new version; enrollments already running finish on the version they started. */
export async function updateWorkflow(ctx: AppContext, institutionId: string, id: string, input: unknown, actor: Actor): Promise<WorkflowView> {
  await workflowRow(ctx.db, institutionId, id);
  const definition = await validateDefinition(ctx.db, institutionId, input);
  const now = ctx.clock.now().toISOString();
  await ctx.db.transaction().execute(async (trx) => {
    let read = trx.selectFrom('workflows').select('current_version').where('id', '=', id);
    if (ctx.store.kind === 'postgres') read = read.forUpdate();
    const { current_version } = await read.executeTakeFirstOrThrow();
    const version = current_version + 1;
    await trx.insertInto('workflow_versions').values({ workflow_id: id, version, definition: JSON.stringify(definition), created_by: actor.userId, created_at: now }).execute();
    await trx.updateTable('workflows').set({ name: definition.name, current_version: version, trigger_type: definition.trigger.type, next_fire_at: nextFireAt(definition.trigger, ctx.clock.now()), updated_at: now }).where('id', '=', id).execute();
    await recordAudit(ctx, trx, { institutionId, actor, action: 'workflow.update', target: { type: 'workflow', id }, meta: { version, trigger: definition.trigger.type } });
  });
  return getWorkflow(ctx.db, institutionId, id);
}

/**
 * Pausing holds every open enrollment where it is (state paused, nothing runs); resuming lets
 * them continue, and any whose wait ended meanwhile run at once. New triggers skip a paused workflow.
 */
export async function setWorkflowStatus(ctx: AppContext, institutionId: string, id: string, status: WorkflowStatus, actor: Actor): Promise<WorkflowView> {
  const row = await workflowRow(ctx.db, institutionId, id);
  if (row.status === status) throw conflict(`The workflow is already ${status}.`, [{ field: 'status', message: `is already ${status}` }]);
  const now = ctx.clock.now().toISOString();
  const [from, to] = status === 'paused' ? (['active', 'paused'] as const) : (['paused', 'active'] as const);
  await ctx.db.transaction().execute(async (trx) => {
    await trx.updateTable('workflows').set({ status, updated_at: now }).where('id', '=', id).execute();
    await trx.updateTable('workflow_enrollments').set({ state: to, updated_at: now }).where('workflow_id', '=', id).where('state', '=', from).execute();
    await recordAudit(ctx, trx, { institutionId, actor, action: status === 'paused' ? 'workflow.pause' : 'workflow.resume', target: { type: 'workflow', id } });
  });
  return getWorkflow(ctx.db, institutionId, id);
}
