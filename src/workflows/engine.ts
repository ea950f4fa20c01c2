import type { AppContext, Db } from '../context.ts';
import type { Database, WorkflowEnrollmentsTable, WorkflowStepRunsTable } from '../db/schema.ts';
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import { newId } from '../ids.ts';
import { newWorkerId } from '../jobs/worker.ts';
import { completeErasure } from '../lifecycle/storage.ts';
import type { Step } from './definition.ts';
import { executeStep, PermanentStepFailure, prepareStep, type StepOutcome, type StepRun } from './steps.ts';
import type { Prepared } from '../lifecycle/actions.ts';
import { loadVersion } from './versions.ts';

type Enrollment = Selectable<WorkflowEnrollmentsTable>;

export const MAX_STEP_ATTEMPTS = 5;
/** step_id of a run whose last step was a wait: it completes when the wait is over ("end" is never a step id). */
const END = 'end';
const LEASE_MS = 120_000;

/** 1 min, 2, 4, 8 … capped at 6 hours: a failing step waits, others keep running. */
export function stepRetryDelayMs(attempts: number): number {
  return Math.min(6 * 3_600_000, 60_000 * 2 ** Math.max(0, attempts - 1));
}

class LeaseLost extends Error {}

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
 * Claims due enrollments for this worker: leased for LEASE_MS, so a worker that dies leaves them
 * to another once the lease runs out. FOR UPDATE SKIP LOCKED lets PostgreSQL workers claim side
 * by side without taking the same rows; SQLite has one writer at a time.
 */
async function claimDue(ctx: AppContext, workerId: string, limit: number): Promise<string[]> {
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  return ctx.db.transaction().execute(async (trx) => {
    let pick = trx
      .selectFrom('workflow_enrollments')
      .select('id')
      .where('state', '=', 'active')
      .where('next_run_at', '<=', nowIso)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', nowIso)]))
      .orderBy('next_run_at')
      .limit(limit);
    if (ctx.store.kind === 'postgres') pick = pick.forUpdate().skipLocked();
    const ids = (await pick.execute()).map((r) => r.id);
    if (ids.length) {
      await trx
        .updateTable('workflow_enrollments')
        .set({ lease_owner: workerId, lease_expires_at: new Date(now.getTime() + LEASE_MS).toISOString() })
        .where('id', 'in', ids)
        .execute();
    }
    return ids;
  });
}


type ContactRow = Selectable<Database['contacts']>;

/** Contacts whose runs stop although their row exists: disabled (soft-deleted) or anonymised stubs. */
async function stoppedContacts(db: Db, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of await db.selectFrom('disabled_contacts').select('contact_id').where('contact_id', 'in', ids).execute()) out.set(d.contact_id, 'the contact’s account was deleted (disabled)');
  for (const a of await db.selectFrom('anonymised_contacts').select('stub_id').where('stub_id', 'in', ids).execute()) out.set(a.stub_id, 'the contact was anonymised');
  return out;
}
type EnrollmentChange = Updateable<WorkflowEnrollmentsTable>;
type StepRunRow = Insertable<WorkflowStepRunsTable>;

/**
 * Where a step's bookkeeping goes: written at once (a single step), or collected and written
 * set-based once the batch's steps have run (one multi-row insert of history lines, one UPDATE
 * per distinct change of the runs), which is most of a batch's statements.
 */
interface Bookkeeping {
  history(row: StepRunRow): Promise<void>;
  move(id: string, change: EnrollmentChange): Promise<void>;
}

const immediate = (trx: Db): Bookkeeping => ({
  history: async (row) => void (await trx.insertInto('workflow_step_runs').values(row).execute()),
  move: async (id, change) => void (await trx.updateTable('workflow_enrollments').set(change).where('id', '=', id).execute()),
});

function deferred(): Bookkeeping & { flush(trx: Db): Promise<void> } {
  const runs: StepRunRow[] = [];
  const moves = new Map<string, { change: EnrollmentChange; ids: string[] }>();
  return {
    history: async (row) => void runs.push(row),
    move: async (id, change) => {
      const key = JSON.stringify(change);
      const group = moves.get(key) ?? { change, ids: [] };
      group.ids.push(id);
      moves.set(key, group);
    },
    async flush(trx) {
      for (let i = 0; i < runs.length; i += 500) await trx.insertInto('workflow_step_runs').values(runs.slice(i, i + 500)).execute();
      for (const { change, ids } of moves.values()) {
        for (let i = 0; i < ids.length; i += 500) await trx.updateTable('workflow_enrollments').set(change).where('id', 'in', ids.slice(i, i + 500)).execute();
      }
    },
  };
}

const historyRow = (e: Enrollment, step: Pick<Step, 'id' | 'type'>, attempt: number, outcome: string, detail: string, at: string, id = newId()): StepRunRow => ({
  id,
  enrollment_id: e.id,
  step_id: step.id,
  step_type: step.type,
  attempt,
  outcome,
  detail: detail.slice(0, 1000),
  ran_at: at,
});

/**
 * Runs one step with its effects in the caller's transaction: the email in the outbox, the
 * attribute, archive or expunge, the history line and the move to the next step. A run whose
 * contact is gone, disabled or anonymised ends instead. Returns the step's outcome (null when the run ended).
 */
async function applyStep(
  ctx: AppContext,
  trx: Db,
  books: Bookkeeping,
  e: Enrollment,
  run: StepRun,
  contact: ContactRow | undefined,
  /** why the run stops although its contact row exists (disabled, anonymised), or null */
  stopped: string | null,
  prepared: Prepared | null,
): Promise<StepOutcome | null> {
  const now = ctx.clock.now().toISOString();
  const attempt = e.attempts + 1;
  if (!contact || stopped) {
    const reason = stopped ?? 'the contact was deleted or expunged';
    await books.move(e.id, { state: 'ended', open: null, reason, finished_at: now, updated_at: now, lease_owner: null, lease_expires_at: null });
    await books.history(historyRow(e, run.step, attempt, 'ended', reason, now));
    return null;
  }
  const result = await executeStep(ctx, trx, run, contact, prepared);
  await books.history(historyRow(e, run.step, attempt, 'done', result.detail, now, result.outboxId));
  // A wait as the last step still holds the run open until it has passed.
  const over = result.next === null && result.at === undefined;
  await books.move(e.id, {
    step_id: result.next ?? (over ? null : END),
    next_run_at: over ? null : (result.at ?? now),
    attempts: 0,
    reason: result.erasure ? result.detail : null,
    lease_owner: null,
    lease_expires_at: null,
    updated_at: now,
    ...(over ? { state: 'completed' as const, open: null, finished_at: now } : {}),
  });
  return result;
}

/** The run's current step, or null when its version has no such step. */
async function runOf(ctx: AppContext, e: Enrollment): Promise<StepRun | null> {
  const definition = await loadVersion(ctx.db, e.workflow_id, e.version);
  const step = definition.steps.find((s) => s.id === (e.step_id ?? definition.steps[0].id));
  return step ? { institutionId: e.institution_id, workflowId: e.workflow_id, enrollmentId: e.id, definition, step } : null;
}

/**
 * Runs the current step of one claimed enrollment in its own transaction, which first re-takes
 * the row as this worker's: a step whose lease passed to another worker rolls back, so no step
 * takes effect twice. Used for steps with work before the transaction (webhook, lifecycle actions).
 */
export async function runEnrollmentStep(ctx: AppContext, enrollmentId: string, workerId: string): Promise<'ran' | 'lost'> {
  const e = await ctx.db.selectFrom('workflow_enrollments').selectAll().where('id', '=', enrollmentId).executeTakeFirst();
  if (!e || e.lease_owner !== workerId || e.state !== 'active') return 'lost';
  if (e.step_id === END) return finishAfterLastWait(ctx, e, workerId);
  const run = await runOf(ctx, e);
  let outcome: StepOutcome | null = null;
  try {
    if (!run) throw new PermanentStepFailure(`step "${e.step_id}" is not in version ${e.version}`);
    const prepared = e.contact_id ? await prepareStep(ctx, run, e.contact_id) : null;
    outcome = await ctx.db.transaction().execute(async (trx) => {
      const held = await trx
        .updateTable('workflow_enrollments')
        .set({ updated_at: ctx.clock.now().toISOString() })
        .where('id', '=', e.id)
        .where('lease_owner', '=', workerId)
        .where('state', '=', 'active')
        .executeTakeFirst();
      if (Number(held.numUpdatedRows) !== 1) throw new LeaseLost();
      const contact = e.contact_id ? await trx.selectFrom('contacts').selectAll().where('id', '=', e.contact_id).executeTakeFirst() : undefined;
      const stopped = contact ? ((await stoppedContacts(trx, [contact.id])).get(contact.id) ?? null) : null;
      return applyStep(ctx, trx, immediate(trx), e, run, contact, stopped, prepared);
    });
  } catch (error) {
    if (error instanceof LeaseLost) return 'lost';
    await recordFailure(ctx, e, run?.step ?? { id: e.step_id ?? '?', type: 'send_email' }, e.attempts + 1, workerId, error);
    return 'ran';
  }
  if (outcome?.erasure) await completeErasure(ctx, outcome.erasure.tables);
  return 'ran';
}

/**
 * Runs a claimed batch of steps that need nothing outside the database (email, wait, condition,
 * staff notice) in one transaction: one commit, and the bookkeeping written set-based. The rows
 * are re-taken as this worker's first, exactly as a single step does. If any step throws, the
 * whole batch rolls back (nothing of it took effect) and each step runs again on its own, so the
 * failing one is retried alone and the others go through. Failures are rare; savepoints around
 * every step would cost two statements each.
 */
async function runBatch(ctx: AppContext, items: { e: Enrollment; run: StepRun }[], workerId: string): Promise<number> {
  let ran = 0;
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const held = new Set(
        (
          await trx
            .updateTable('workflow_enrollments')
            .set({ updated_at: ctx.clock.now().toISOString() })
            .where('id', 'in', items.map((i) => i.e.id))
            .where('lease_owner', '=', workerId)
            .where('state', '=', 'active')
            .returning('id')
            .execute()
        ).map((r) => r.id),
      );
      const mine = items.filter((i) => held.has(i.e.id));
      const contactIds = mine.flatMap((i) => (i.e.contact_id ? [i.e.contact_id] : []));
      const contacts = new Map<string, ContactRow>();
      const stopped = new Map<string, string>();
      for (let k = 0; k < contactIds.length; k += 500) {
        const part = contactIds.slice(k, k + 500);
        for (const c of await trx.selectFrom('contacts').selectAll().where('id', 'in', part).execute()) contacts.set(c.id, c);
        for (const [id, why] of await stoppedContacts(trx, part)) stopped.set(id, why);
      }
      const books = deferred();
      for (const { e, run } of mine) {
        await applyStep(ctx, trx, books, e, run, e.contact_id ? contacts.get(e.contact_id) : undefined, e.contact_id ? (stopped.get(e.contact_id) ?? null) : null, null);
      }
      await books.flush(trx);
      ran = mine.length;
    });
  } catch {
    ran = 0;
    for (const { e } of items) if ((await runEnrollmentStep(ctx, e.id, workerId)) === 'ran') ran++;
  }
  return ran;
}

const batchable = new Set(['send_email', 'wait', 'condition', 'notify_staff']);

/** Runs claimed enrollments: simple steps together (runBatch), the others one by one. */
async function runClaimed(ctx: AppContext, ids: string[], workerId: string): Promise<number> {
  const rows = await ctx.db.selectFrom('workflow_enrollments').selectAll().where('id', 'in', ids).where('lease_owner', '=', workerId).where('state', '=', 'active').execute();
  const batch: { e: Enrollment; run: StepRun }[] = [];
  let ran = 0;
  for (const e of rows) {
    const run = e.step_id === END ? null : await runOf(ctx, e);
    if (run && batchable.has(run.step.type)) batch.push({ e, run });
    else if ((await runEnrollmentStep(ctx, e.id, workerId)) === 'ran') ran++;
  }
  if (batch.length) ran += await runBatch(ctx, batch, workerId);
  return ran;
}

/** The run waited out its last step: it is complete. */
async function finishAfterLastWait(ctx: AppContext, e: Enrollment, workerId: string): Promise<'ran' | 'lost'> {
  const now = ctx.clock.now().toISOString();
  const r = await ctx.db
    .updateTable('workflow_enrollments')
    .set({ state: 'completed', open: null, step_id: null, next_run_at: null, finished_at: now, updated_at: now, lease_owner: null, lease_expires_at: null })
    .where('id', '=', e.id)
    .where('lease_owner', '=', workerId)
    .where('state', '=', 'active')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1 ? 'ran' : 'lost';
}

async function recordFailure(ctx: AppContext, e: Enrollment, step: Pick<Step, 'id' | 'type'>, attempt: number, workerId: string, error: unknown): Promise<void> {
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
  const final = error instanceof PermanentStepFailure || attempt >= MAX_STEP_ATTEMPTS;
  const now = ctx.clock.now();
  ctx.log.warn({ enrollmentId: e.id, workflowId: e.workflow_id, step: step.id, attempt, final }, 'workflow step failed');
  await ctx.db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('workflow_enrollments')
      .set({
        attempts: attempt,
        reason: `${step.id}: ${message}`,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now.toISOString(),
        ...(final
          ? { state: 'failed' as const, open: null, finished_at: now.toISOString(), next_run_at: null }
          : { next_run_at: new Date(now.getTime() + stepRetryDelayMs(attempt)).toISOString() }),
      })
      .where('id', '=', e.id)
      .where('lease_owner', '=', workerId)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) await trx.insertInto('workflow_step_runs').values(historyRow(e, step, attempt, final ? 'failed' : 'retry', message, now.toISOString())).execute();
  });
}

/** A worker tick: ends orphaned runs, then runs due steps, a batch at a time, until none is due or `limit` ran. */
export async function runDueWorkflowSteps(ctx: AppContext, options: { workerId?: string; limit?: number; batch?: number } = {}): Promise<number> {
  const workerId = options.workerId ?? newWorkerId();
  const limit = options.limit ?? 500;
  const done = await endOrphans(ctx);
  let ran = 0;
  while (ran < limit) {
    const ids = await claimDue(ctx, workerId, Math.min(options.batch ?? 100, limit - ran));
    if (ids.length === 0) break;
    ran += await runClaimed(ctx, ids, workerId);
  }
  return done + ran;
}
