import { sql } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import { newWorkerId } from '../jobs/worker.ts';
import { dueRunColumns, type DueRun } from './bookkeeping.ts';
import { applyBatch, batchable, type BatchItem } from './run-batch.ts';
import { END, runEnrollmentStep, runOf } from './run-step.ts';

export { MAX_STEP_ATTEMPTS, runEnrollmentStep, stepRetryDelayMs } from './run-step.ts';

const LEASE_MS = 120_000;
/**
 * Runs taken per transaction. Each batch costs a commit and about a dozen statements whatever its
 * size (100 per batch cost ~30% more CPU per step than 250); past a few hundred the saving is
 * small, while a batch holds SQLite's only writer (other requests wait) for its length: about
 * 30 ms at 8,000 steps/s.
 */
const BATCH = 250;

/**
 * Ends the open enrollments whose contact was erased (the foreign key set contact_id to null):
 * an enrollment ends when its contact is deleted or expunged, whatever step it was waiting on.
 */
async function endOrphans(ctx: AppContext): Promise<number> {
  const now = ctx.clock.now().toISOString();
  const r = await ctx.db
    .updateTable('workflow_enrollments')
    .set({ state: 'ended', open: null, reason: 'the contact was deleted or expunged', finished_at: now, updated_at: now, lease_owner: null, lease_expires_at: null })
    .where('open', '=', 1)
    .where('contact_id', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * Due runs that no live lease holds, taken by the caller's transaction: FOR UPDATE SKIP LOCKED on
 * PostgreSQL, so workers side by side each take other rows; on SQLite the transaction holds the
 * write lock from its start, so nobody else can take them either.
 *
 * On PostgreSQL the statement may not sort. Without statistics (a new table, or a burst of
 * enrollments that autovacuum has not analysed yet) the planner expects a few due rows and reads
 * every due row, then sorts them all (the row locks keep the sort from stopping at `limit`): 190 ms
 * a batch with 100,000 due, five times the batch's own work. Walking the (state, next_run_at) index
 * stops after `limit` rows whatever the statistics say.
 */
async function takeDue(ctx: AppContext, trx: Db, limit: number): Promise<DueRun[]> {
  const now = ctx.clock.now().toISOString();
  const due = trx
    .selectFrom('workflow_enrollments')
    .select(dueRunColumns)
    .where('state', '=', 'active')
    .where('next_run_at', '<=', now)
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
    .orderBy('next_run_at')
    .limit(limit);
  if (ctx.store.kind !== 'postgres') return due.execute();
  await sql`set local enable_sort = off`.execute(trx);
  const rows = await due.forUpdate().skipLocked().execute();
  await sql`set local enable_sort to default`.execute(trx);
  return rows;
}

/**
 * Leases runs to this worker for LEASE_MS, for steps run outside one transaction (a webhook is
 * answered before its step commits): a worker that dies leaves them to another once the lease
 * runs out. Conditional, so a run another worker leased in the meantime is not taken.
 */
async function lease(ctx: AppContext, db: Db, ids: string[], workerId: string): Promise<string[]> {
  if (ids.length === 0) return [];
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  const rows = await db
    .updateTable('workflow_enrollments')
    .set({ lease_owner: workerId, lease_expires_at: new Date(now.getTime() + LEASE_MS).toISOString() })
    .where('id', 'in', ids)
    .where('state', '=', 'active')
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', nowIso)]))
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

async function runEachAlone(ctx: AppContext, ids: string[], workerId: string): Promise<number> {
  let ran = 0;
  for (const id of ids) if ((await runEnrollmentStep(ctx, id, workerId)) === 'ran') ran++;
  return ran;
}

/**
 * One batch of due runs. In one transaction: the runs are taken, the batchable steps run
 * (run-batch.ts) and the others are leased; those then run one by one, each in its own
 * transaction. A batchable step needs no lease: its effects and its run's move commit together,
 * or not at all. If the batch fails, nothing of it took effect; every run is then leased and run
 * on its own, so the failing step is retried alone and the others go through.
 * Returns how many runs were due (0: none) and how many steps ran.
 */
async function runNextBatch(ctx: AppContext, workerId: string, size: number): Promise<{ due: number; ran: number }> {
  let due: DueRun[] = [];
  let result: { ran: number; alone: string[] };
  try {
    result = await ctx.db.transaction().execute(async (trx) => {
      due = await takeDue(ctx, trx, size);
      const items: BatchItem[] = [];
      const finished: DueRun[] = [];
      const others: string[] = [];
      for (const e of due) {
        const run = e.step_id === END ? null : await runOf(trx, e);
        if (e.step_id === END) finished.push(e);
        else if (run && batchable.has(run.step.type)) items.push({ e, run });
        else others.push(e.id);
      }
      const alone = await lease(ctx, trx, others, workerId);
      // The batch commits at once, so its steps share one time: runs that move alike (the same
      // next step, due at the same time) then share one UPDATE instead of one each.
      const at = ctx.clock.now();
      return { ran: await applyBatch({ ...ctx, clock: { now: () => new Date(at) } }, trx, items, finished), alone };
    });
  } catch (error) {
    if (due.length === 0) throw error;
    result = { ran: 0, alone: await lease(ctx, ctx.db, due.map((e) => e.id), workerId) };
  }
  return { due: due.length, ran: result.ran + (await runEachAlone(ctx, result.alone, workerId)) };
}

/**
 * A worker tick: ends orphaned runs, then runs due steps, a batch at a time, until none is due,
 * `limit` ran, or (with `forMs`) that much wall time has passed: no batch starts after it.
 */
export async function runDueWorkflowSteps(ctx: AppContext, options: { workerId?: string; limit?: number; batch?: number; forMs?: number } = {}): Promise<number> {
  const workerId = options.workerId ?? newWorkerId();
  const limit = options.limit ?? 500;
  const until = options.forMs === undefined ? Infinity : performance.now() + options.forMs;
  const done = await endOrphans(ctx);
  let ran = 0;
  while (ran < limit && performance.now() < until) {
    const batch = await runNextBatch(ctx, workerId, Math.min(options.batch ?? BATCH, limit - ran));
    if (batch.due === 0) break;
    ran += batch.ran;
  }
  return done + ran;
}
