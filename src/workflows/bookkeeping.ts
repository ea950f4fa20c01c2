import type { Insertable, Selectable, Updateable } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import type { WorkflowEnrollmentsTable, WorkflowStepRunsTable } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { enqueueMail, insertOutboxRows, outboxRow, type OutboxRow } from '../mail/outbox.ts';
import type { Step } from './definition.ts';
import type { QueueMail } from './steps.ts';

export type Enrollment = Selectable<WorkflowEnrollmentsTable>;
/**
 * What running a due step reads of its enrollment. A batch takes a few hundred at once, so only
 * these columns: the others (timestamps, lease, reason) are never read and would be garbage.
 */
export const dueRunColumns = ['id', 'institution_id', 'workflow_id', 'version', 'contact_id', 'step_id', 'attempts'] as const;
export type DueRun = Pick<Enrollment, (typeof dueRunColumns)[number]>;
export type EnrollmentChange = Updateable<WorkflowEnrollmentsTable>;
type StepRunRow = Insertable<WorkflowStepRunsTable>;

/**
 * Where a step's writes go besides its own (lifecycle) statements: its emails, its history line
 * and the run's move to the next step. Written at once for a step run alone (`immediate`), or
 * collected and written set-based for a batch (`deferred`): multi-row inserts of emails and of
 * history lines, one UPDATE per distinct move. Those are most of a step's statements, so a batch
 * of 250 steps costs about a dozen statements instead of a thousand.
 */
export interface Bookkeeping {
  mail: QueueMail;
  history(row: StepRunRow): Promise<void>;
  move(id: string, change: EnrollmentChange): Promise<void>;
  /** writes what is still collected; a no-op for `immediate` */
  flush(): Promise<void>;
}

export const historyRow = (e: Pick<DueRun, 'id'>, step: Pick<Step, 'id' | 'type'>, attempt: number, outcome: string, detail: string, at: string, id = newId()): StepRunRow => ({
  id,
  enrollment_id: e.id,
  step_id: step.id,
  step_type: step.type,
  attempt,
  outcome,
  detail: detail.slice(0, 1000),
  ran_at: at,
});

/** Each write as its own statement, in order: a single step in its own transaction. */
export function immediate(ctx: AppContext, trx: Db): Bookkeeping {
  return {
    mail: (input) => enqueueMail(ctx, trx, input),
    history: async (row) => void (await trx.insertInto('workflow_step_runs').values(row).execute()),
    move: async (id, change) => void (await trx.updateTable('workflow_enrollments').set(change).where('id', '=', id).execute()),
    flush: async () => {},
  };
}

/**
 * Emails and history lines are written as they pile up, this many rows a statement, rather than all
 * at the batch's end: rows held for a whole batch outlive the young generation's collections, and
 * such promoted garbage is what grew a worker's heap (a batch of 250 holds ~0.5 MB of email bodies).
 */
const ROWS_PER_WRITE = 50;
/** An UPDATE … WHERE id IN (…) binds one parameter per id. */
const IDS_PER_UPDATE = 500;

/** The same columns set to the same values (a move's values are strings, numbers or null). */
function sameChange(a: EnrollmentChange, b: EnrollmentChange): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (x[k] !== y[k]) return false;
  for (const k in y) if (!(k in x)) return false;
  return true;
}

/**
 * Collects a batch's writes, in the batch's transaction `trx`. Marketing refusals were looked up
 * for the whole batch beforehand (`refusals`: contact id → why), since no batched step changes
 * what they depend on.
 */
export function deferred(ctx: AppContext, trx: Db, refusals: ReadonlyMap<string, string>): Bookkeeping {
  let mails: OutboxRow[] = [];
  let runs: StepRunRow[] = [];
  // Runs that move the same way (same next step, same due time) share one UPDATE … WHERE id IN (…).
  const moves = new Map<string, { change: EnrollmentChange; ids: string[] }>();
  let last: { change: EnrollmentChange; ids: string[] } | undefined;
  const now = ctx.clock.now().toISOString();
  const writeMails = async () => {
    const rows = mails;
    mails = [];
    await insertOutboxRows(trx, rows);
  };
  const writeRuns = async () => {
    const rows = runs;
    runs = [];
    if (rows.length) await trx.insertInto('workflow_step_runs').values(rows).execute();
  };
  return {
    mail: async (input) => {
      const refusal = input.category === 'marketing' && input.contactId ? (refusals.get(input.contactId) ?? null) : null;
      const { row, queued } = outboxRow(now, input, refusal);
      mails.push(row);
      if (refusal) ctx.log.info({ outboxId: queued.id, template: input.template, reason: refusal }, 'marketing mail refused');
      if (mails.length >= ROWS_PER_WRITE) await writeMails();
      return queued;
    },
    history: async (row) => {
      runs.push(row);
      if (runs.length >= ROWS_PER_WRITE) await writeRuns();
    },
    move: async (id, change) => {
      // Most of a batch moves alike: a run that moves as the one before joins its group without a key being built.
      if (last && sameChange(last.change, change)) return void last.ids.push(id);
      const key = JSON.stringify(change);
      last = moves.get(key) ?? { change, ids: [] };
      last.ids.push(id);
      moves.set(key, last);
    },
    async flush() {
      await writeMails();
      await writeRuns();
      for (const { change, ids } of moves.values()) {
        for (let i = 0; i < ids.length; i += IDS_PER_UPDATE) await trx.updateTable('workflow_enrollments').set(change).where('id', 'in', ids.slice(i, i + IDS_PER_UPDATE)).execute();
      }
    },
  };
}
