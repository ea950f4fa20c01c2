import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { enqueueJob } from '../jobs/queue.ts';
import { newId } from '../ids.ts';
import { conflict, invalidField, notFound, Problem } from '../http/problem.ts';
import { inactivityCutoff } from './recency-rules.ts';
import { inactiveReport } from './inactive-report.ts';
import { readRetentionSettings } from './settings.ts';

export const INACTIVE_JOB_KIND = 'retention.inactive';

export const runView = z.object({
  id: z.string(),
  mode: z.enum(['simulation', 'execution']),
  months: z.number(),
  asOf: z.string(),
  cutoff: z.string().describe('contacts whose recency is before this instant are inactive'),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  jobId: z.string().nullable(),
  requestedBy: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  report: inactiveReport.nullable(),
});
export type RunView = z.infer<typeof runView>;

type RunRow = Awaited<ReturnType<typeof readRun>>;
async function readRun(db: Db, institutionId: string, runId: string) {
  return db.selectFrom('retention_runs').selectAll().where('institution_id', '=', institutionId).where('id', '=', runId).executeTakeFirst();
}

export function toRunView(r: NonNullable<RunRow>): RunView {
  return {
    id: r.id,
    mode: r.mode,
    months: Number(r.months),
    asOf: new Date(r.as_of).toISOString(),
    cutoff: new Date(r.cutoff).toISOString(),
    status: r.status,
    jobId: r.job_id,
    requestedBy: r.requested_by,
    createdAt: new Date(r.created_at).toISOString(),
    finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
    report: r.report ? JSON.parse(r.report) : null,
  };
}

export interface StartRunInput {
  /** default: the institution's setting (36 months unless changed) */
  months?: number;
  /** default: the institution's setting (simulation unless changed) */
  execute?: boolean;
  actor: Actor;
  /** contacts per transaction (default 500); smaller chunks commit (and checkpoint) more often */
  chunkSize?: number;
}

/**
 * Starts a run of "Deletion/anonymisation of inactive contacts" for one institution: checks the
 * period, takes the institution's batch lock (one run at a time; a failed run's lock is taken
 * over) and queues the job, all in one transaction, so a refused start leaves nothing behind.
 */
export async function startInactiveRun(ctx: AppContext, institutionId: string, input: StartRunInput): Promise<RunView> {
  if (input.months !== undefined && (!Number.isInteger(input.months) || input.months <= 0)) {
    throw invalidField('months', `must be a whole number of months greater than 0 (got ${input.months})`);
  }
  const institution = await ctx.db.selectFrom('institutions').select('id').where('id', '=', institutionId).executeTakeFirst();
  if (!institution) throw notFound('Institution');
  const settings = await readRetentionSettings(ctx.db, institutionId);
  const months = input.months ?? settings.inactivityMonths;
  const mode = (input.execute ?? !settings.simulation) ? 'execution' : 'simulation';
  const now = ctx.clock.now();
  const at = now.toISOString();
  const cutoff = inactivityCutoff(now, months).toISOString();
  const runId = newId();
  await ctx.db.transaction().execute(async (trx) => {
    const held = await trx
      .selectFrom('retention_locks as l')
      .leftJoin('retention_runs as r', 'r.id', 'l.run_id')
      .leftJoin('jobs as j', 'j.id', 'r.job_id')
      .select(['l.run_id', 'r.status', 'r.mode', 'j.status as job_status'])
      .where('l.institution_id', '=', institutionId)
      .executeTakeFirst();
    // A run whose job failed for good or was cancelled no longer holds the lock.
    const live = held && (held.status === 'queued' || held.status === 'running') && (held.job_status === 'queued' || held.job_status === 'running');
    if (held && live) {
      throw conflict(`Another run of the inactive-contact batch (${held.mode} ${held.run_id}) holds this institution's lock; wait for it to finish.`, [
        { field: 'runId', message: `run ${held.run_id} is ${held.status}` },
      ]);
    }
    if (held) await trx.deleteFrom('retention_locks').where('institution_id', '=', institutionId).execute();
    // The primary key makes two concurrent starts collide here: one wins, the other is refused.
    await trx.insertInto('retention_locks').values({ institution_id: institutionId, run_id: runId, acquired_at: at }).execute();
    const jobId = await enqueueJob(trx, at, { institutionId, kind: INACTIVE_JOB_KIND, payload: { runId, ...(input.chunkSize ? { chunkSize: input.chunkSize } : {}) }, createdBy: input.actor.userId, maxAttempts: 10 });
    await trx
      .insertInto('retention_runs')
      .values({ id: runId, institution_id: institutionId, job_id: jobId, mode, months, as_of: at, cutoff, status: 'queued', report: null, requested_by: input.actor.userId, created_at: at, finished_at: null })
      .execute();
    await recordAudit(ctx, trx, { institutionId, actor: input.actor, action: 'retention.run_start', target: { type: 'retention_run', id: runId }, meta: { mode, months, cutoff } });
  }).catch((error) => {
    if (error instanceof Problem) throw error;
    if (/unique|duplicate key|PRIMARY KEY/i.test(String(error?.message))) throw conflict('Another run of the inactive-contact batch started at the same moment; try again when it has finished.');
    throw error;
  });
  return (await getRun(ctx.db, institutionId, runId))!;
}

export async function getRun(db: Db, institutionId: string, runId: string): Promise<RunView | null> {
  const row = await readRun(db, institutionId, runId);
  return row ? toRunView(row) : null;
}

export async function listRuns(db: Db, institutionId: string, limit = 50): Promise<RunView[]> {
  const rows = await db.selectFrom('retention_runs').selectAll().where('institution_id', '=', institutionId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toRunView);
}

/** The contacts a run fixed in its snapshot, with what it planned and (executed) did. */
export async function runItems(db: Db, runId: string): Promise<{ contactId: string; outcome: 'delete' | 'anonymise'; done: string | null }[]> {
  const rows = await db.selectFrom('retention_run_items').select(['contact_id', 'outcome', 'done']).where('run_id', '=', runId).orderBy('contact_id').execute();
  return rows.map((r) => ({ contactId: r.contact_id, outcome: r.outcome, done: r.done }));
}
