import type { AppContext, Db } from '../context.ts';
import { completeErasure } from '../lifecycle/storage.ts';
import type { Prepared } from '../lifecycle/actions.ts';
import type { Step } from './definition.ts';
import { executeStep, PermanentStepFailure, prepareStep, stepContactColumns, type StepContact, type StepOutcome, type StepRun } from './steps.ts';
import { loadVersion } from './versions.ts';
import { historyRow, immediate, type Bookkeeping, type DueRun, type Enrollment } from './bookkeeping.ts';

export const MAX_STEP_ATTEMPTS = 5;
/** step_id of a run whose last step was a wait: it completes when the wait is over ("end" is never a step id). */
export const END = 'end';

/** 1 min, 2, 4, 8 … capped at 6 hours: a failing step waits, others keep running. */
export function stepRetryDelayMs(attempts: number): number {
  return Math.min(6 * 3_600_000, 60_000 * 2 ** Math.max(0, attempts - 1));
}

class LeaseLost extends Error {}

/** Contacts whose runs stop although their row exists: disabled (soft-deleted) or anonymised stubs. */
export async function stoppedContacts(db: Db, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of await db.selectFrom('disabled_contacts').select('contact_id').where('contact_id', 'in', ids).execute()) out.set(d.contact_id, 'the contact’s account was deleted (disabled)');
  for (const a of await db.selectFrom('anonymised_contacts').select('stub_id').where('stub_id', 'in', ids).execute()) out.set(a.stub_id, 'the contact was anonymised');
  return out;
}

/**
 * Runs one step with its effects in the caller's transaction: the email in the outbox, the
 * attribute, archive or expunge, the history line and the move to the next step. A run whose
 * contact is gone, disabled or anonymised ends instead. Returns the step's outcome (null when the run ended).
 */
export async function applyStep(
  ctx: AppContext,
  trx: Db,
  books: Bookkeeping,
  e: DueRun,
  run: StepRun,
  contact: StepContact | undefined,
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
  const result = await executeStep(ctx, trx, run, contact, prepared, books.mail);
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

/** The run's current step, or null when its version has no such step. Definitions come from a cache (versions.ts). */
export async function runOf(db: Db, e: DueRun): Promise<StepRun | null> {
  const definition = await loadVersion(db, e.workflow_id, e.version);
  const step = definition.steps.find((s) => s.id === (e.step_id ?? definition.steps[0].id));
  return step ? { institutionId: e.institution_id, workflowId: e.workflow_id, enrollmentId: e.id, definition, step } : null;
}

/**
 * Runs the current step of one claimed enrollment in its own transaction, which first re-takes
 * the row as this worker's: a step whose lease passed to another worker rolls back, so no step
 * takes effect twice. Used for steps with work before the transaction (webhook, lifecycle actions),
 * and for each step of a batch that failed.
 */
export async function runEnrollmentStep(ctx: AppContext, enrollmentId: string, workerId: string): Promise<'ran' | 'lost'> {
  const e = await ctx.db.selectFrom('workflow_enrollments').selectAll().where('id', '=', enrollmentId).executeTakeFirst();
  if (!e || e.lease_owner !== workerId || e.state !== 'active') return 'lost';
  if (e.step_id === END) return finishAfterLastWait(ctx, e, workerId);
  const run = await runOf(ctx.db, e);
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
      const contact = e.contact_id ? await trx.selectFrom('contacts').select(stepContactColumns).where('id', '=', e.contact_id).executeTakeFirst() : undefined;
      const stopped = contact ? ((await stoppedContacts(trx, [contact.id])).get(contact.id) ?? null) : null;
      return applyStep(ctx, trx, immediate(ctx, trx), e, run, contact, stopped, prepared);
    });
  } catch (error) {
    if (error instanceof LeaseLost) return 'lost';
    await recordFailure(ctx, e, run?.step ?? { id: e.step_id ?? '?', type: 'send_email' }, e.attempts + 1, workerId, error);
    return 'ran';
  }
  if (outcome?.erasure) await completeErasure(ctx, outcome.erasure.tables);
  return 'ran';
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

async function recordFailure(ctx: AppContext, e: DueRun, step: Pick<Step, 'id' | 'type'>, attempt: number, workerId: string, error: unknown): Promise<void> {
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
