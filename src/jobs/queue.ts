import type { Selectable } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import type { JobsTable } from '../db/schema.ts';
import { newId } from '../ids.ts';

export type JobRow = Selectable<JobsTable>;

export interface EnqueueInput {
  institutionId: string | null;
  kind: string;
  payload: unknown;
  createdBy?: string | null;
  runAfter?: string;
  total?: number | null;
  maxAttempts?: number;
}

/** Adds a job in the caller's transaction, so the work is scheduled if and only if the change commits. */
export async function enqueueJob(db: Db, now: string, input: EnqueueInput): Promise<string> {
  const id = newId();
  await db
    .insertInto('jobs')
    .values({
      id,
      institution_id: input.institutionId,
      kind: input.kind,
      status: 'queued',
      payload: JSON.stringify(input.payload ?? {}),
      checkpoint: null,
      progress_done: 0,
      progress_total: input.total ?? null,
      result: null,
      error: null,
      attempts: 0,
      max_attempts: input.maxAttempts ?? 5,
      run_after: input.runAfter ?? now,
      lease_owner: null,
      lease_expires_at: null,
      created_by: input.createdBy ?? null,
      created_at: now,
      updated_at: now,
      finished_at: null,
    })
    .execute();
  return id;
}

/**
 * Claims one due job (queued, or running with an expired lease because its worker died).
 * On PostgreSQL, FOR UPDATE SKIP LOCKED lets many workers claim concurrently without ever
 * taking the same job; SQLite serialises writers, so a plain transaction does the same.
 */
export async function claimNextJob(ctx: AppContext, workerId: string, kinds: string[], leaseMs: number): Promise<JobRow | null> {
  if (kinds.length === 0) return null;
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
  return ctx.db.transaction().execute(async (trx) => {
    let pick = trx
      .selectFrom('jobs')
      .select('id')
      .where('kind', 'in', kinds)
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('run_after', '<=', nowIso)]),
          eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<', nowIso)]),
        ]),
      )
      .orderBy('run_after')
      .limit(1);
    if (ctx.store.kind === 'postgres') pick = pick.forUpdate().skipLocked();
    const due = await pick.executeTakeFirst();
    if (!due) return null;
    return (
      (await trx
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          lease_owner: workerId,
          lease_expires_at: leaseUntil,
          attempts: eb('attempts', '+', 1),
          updated_at: nowIso,
        }))
        .where('id', '=', due.id)
        .returningAll()
        .executeTakeFirst()) ?? null
    );
  });
}

/** Records progress (and optionally where to resume) and renews the lease; false when the job was taken away or cancelled. */
export async function reportJobProgress(
  ctx: AppContext,
  db: Db,
  job: { id: string; workerId: string; leaseMs: number },
  done: number,
  total?: number | null,
  checkpoint?: unknown,
): Promise<boolean> {
  const now = ctx.clock.now();
  const result = await db
    .updateTable('jobs')
    .set({
      progress_done: done,
      ...(total !== undefined ? { progress_total: total } : {}),
      ...(checkpoint !== undefined ? { checkpoint: JSON.stringify(checkpoint) } : {}),
      lease_expires_at: new Date(now.getTime() + job.leaseMs).toISOString(),
      updated_at: now.toISOString(),
    })
    .where('id', '=', job.id)
    .where('lease_owner', '=', job.workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function completeJob(ctx: AppContext, jobId: string, workerId: string, result: unknown): Promise<void> {
  const now = ctx.clock.now().toISOString();
  await ctx.db
    .updateTable('jobs')
    .set({ status: 'succeeded', result: JSON.stringify(result ?? null), lease_owner: null, lease_expires_at: null, updated_at: now, finished_at: now, error: null })
    .where('id', '=', jobId)
    .where('lease_owner', '=', workerId)
    .execute();
}

/** A failed attempt is retried with exponential backoff until max_attempts, then the job fails for good. */
export async function failJob(ctx: AppContext, job: JobRow, workerId: string, message: string): Promise<void> {
  const now = ctx.clock.now();
  const final = job.attempts >= job.max_attempts;
  const backoffMs = Math.min(3_600_000, 1000 * 2 ** job.attempts);
  await ctx.db
    .updateTable('jobs')
    .set({
      status: final ? 'failed' : 'queued',
      error: message.slice(0, 2000),
      run_after: new Date(now.getTime() + backoffMs).toISOString(),
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now.toISOString(),
      ...(final ? { finished_at: now.toISOString() } : {}),
    })
    .where('id', '=', job.id)
    .where('lease_owner', '=', workerId)
    .execute();
}

export async function cancelJob(ctx: AppContext, institutionId: string, jobId: string): Promise<JobRow | null> {
  const now = ctx.clock.now().toISOString();
  await ctx.db
    .updateTable('jobs')
    .set({ status: 'cancelled', lease_owner: null, lease_expires_at: null, updated_at: now, finished_at: now })
    .where('id', '=', jobId)
    .where('institution_id', '=', institutionId)
    .where('status', 'in', ['queued', 'running'])
    .execute();
  return getJob(ctx.db, institutionId, jobId);
}

export async function getJob(db: Db, institutionId: string, jobId: string): Promise<JobRow | null> {
  return (await db.selectFrom('jobs').selectAll().where('id', '=', jobId).where('institution_id', '=', institutionId).executeTakeFirst()) ?? null;
}
