import type { AppContext } from '../../context.ts';
import { newId } from '../../ids.ts';
import { recordAudit, type Actor } from '../../audit/audit-log.ts';
import type { Viewer } from '../../contacts/visibility.ts';
import { invalidField, Problem } from '../../http/problem.ts';
import { completeJob, enqueueJob, failJob, reportJobProgress, type JobRow } from '../../jobs/queue.ts';
import { JobLostError, type JobControl } from '../../jobs/worker.ts';
import { applyAction, prepareAction, type Acting, type ActionInput } from '../actions.ts';
import { completeErasure } from '../storage.ts';
import { writingInBulk } from '../../db/bulk-writing.ts';
import { previewCount, selectionQuery, snapshotSelection, type BulkFilter } from './bulk-select.ts';

export const BULK_JOB_KIND = 'lifecycle.bulk';
/** Contacts per transaction: each chunk commits with its checkpoint, so a crash loses at most one chunk's work, and repeats none. */
export const BULK_CHUNK = 1000;
const LEASE_MS = 60_000;
interface BulkPayload {
  input: ActionInput;
  actor: Actor;
  viewer: Viewer;
  via: Acting['via'];
  chunk?: number;
}

export interface BulkReport {
  action: string;
  total: number;
  changed: number;
  unchanged: number;
  refused: number;
  /** why contacts were left unchanged or refused, with how many each */
  reasons: Record<string, number>;
  /** a few refused contacts (ids only), to look into */
  refusedSample: { id: string; why: string }[];
}

interface Checkpoint {
  /** contacts are worked through in id order; everything up to here is committed */
  after: string;
  report: BulkReport;
  /** tables erasure removed rows from, compacted once at the end */
  tables: string[];
}

export async function previewBulk(ctx: AppContext, institutionId: string, viewer: Viewer, filter: BulkFilter): Promise<number> {
  return previewCount(ctx, institutionId, viewer, filter);
}

/**
 * Queues a bulk action: checks its options (422 naming the field), fixes the set of contacts in
 * the same transaction as the job, and refuses (409) when the set no longer has the size the
 * caller previewed. One audit entry records the request; the job writes one per contact.
 */
export async function startBulkJob(
  ctx: AppContext,
  institutionId: string,
  acting: Acting,
  filter: BulkFilter,
  input: ActionInput,
  options: { expectedCount?: number; chunk?: number } = {},
): Promise<{ jobId: string; count: number }> {
  await prepareAction(ctx, institutionId, acting.actor, input);
  const selection = await selectionQuery(ctx, institutionId, acting.viewer, filter);
  const now = ctx.clock.now().toISOString();
  return ctx.db.transaction().execute(async (trx) => {
    const payload: BulkPayload = { input, actor: acting.actor, viewer: acting.viewer, via: acting.via, ...(options.chunk ? { chunk: options.chunk } : {}) };
    const jobId = await enqueueJob(trx, now, { institutionId, kind: BULK_JOB_KIND, payload, createdBy: acting.actor.userId, maxAttempts: 5 });
    const count = await snapshotSelection(trx, jobId, selection);
    if (count === 0) throw invalidField('filter', 'matches no contacts you may see; nothing was queued');
    if (options.expectedCount !== undefined && options.expectedCount !== count) {
      throw new Problem(409, `The filter now matches ${count} contacts, not the ${options.expectedCount} you previewed; preview again before running.`, [
        { field: 'expectedCount', message: `is ${options.expectedCount}, the filter matches ${count}` },
      ]);
    }
    await trx.updateTable('jobs').set({ progress_total: count }).where('id', '=', jobId).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor: acting.actor,
      action: 'contact.bulk',
      target: { type: 'job', id: jobId },
      meta: { action: input.action, count, via: acting.via },
    });
    return { jobId, count };
  });
}

const emptyReport = (action: string, total: number): BulkReport => ({ action, total, changed: 0, unchanged: 0, refused: 0, reasons: {}, refusedSample: [] });

/**
 * The job: works through the fixed set in id order, one transaction per chunk, each committing
 * its contacts' changes (with their audit entries) together with the checkpoint and progress, so
 * a restarted worker resumes after the last committed chunk. Erasures complete at the storage
 * level once, at the end.
 */
export async function runBulkJob(ctx: AppContext, job: JobRow, control: JobControl, hooks: { onChunk?: (done: number, total: number) => Promise<void> | void } = {}): Promise<BulkReport> {
  const payload = JSON.parse(job.payload) as BulkPayload;
  const institutionId = job.institution_id!;
  const acting: Acting = { viewer: payload.viewer, actor: payload.actor, via: payload.via };
  const prepared = await prepareAction(ctx, institutionId, acting.actor, payload.input);
  const total = Number(job.progress_total ?? 0);
  const cp: Checkpoint = control.checkpoint<Checkpoint>() ?? { after: '', report: emptyReport(payload.input.action, total), tables: [] };
  const size = payload.chunk ?? BULK_CHUNK;
  const tables = new Set(cp.tables);
  await writingInBulk(ctx, (betweenTransactions) => workThrough(ctx, job, control, hooks, { payload, institutionId, acting, prepared, total, cp, size, tables, betweenTransactions }), {
    checkpointAlongside: true,
  });
  if (tables.size) await completeErasure(ctx, tables);
  await ctx.db.deleteFrom('bulk_job_items').where('job_id', '=', job.id).execute();
  return cp.report;
}

interface Work {
  payload: BulkPayload;
  institutionId: string;
  acting: Acting;
  prepared: Awaited<ReturnType<typeof prepareAction>>;
  total: number;
  cp: Checkpoint;
  size: number;
  tables: Set<string>;
  betweenTransactions: () => Promise<void>;
}

async function workThrough(ctx: AppContext, job: JobRow, control: JobControl, hooks: { onChunk?: (done: number, total: number) => Promise<void> | void }, w: Work): Promise<void> {
  const { payload, institutionId, acting, prepared, total, cp, size, tables, betweenTransactions } = w;

  for (;;) {
    await betweenTransactions();
    const ids = (
      await ctx.db
        .selectFrom('bulk_job_items')
        .select('contact_id')
        .where('job_id', '=', job.id)
        .where('contact_id', '>', cp.after)
        .orderBy('contact_id')
        .limit(size)
        .execute()
    ).map((r) => r.contact_id);
    if (ids.length === 0) break;
    await ctx.db.transaction().execute(async (trx) => {
      const { outcomes, erasure } = await applyAction(ctx, trx, institutionId, acting, ids, payload.input, prepared);
      const r = cp.report;
      for (const o of outcomes) {
        r[o.outcome]++;
        if (o.why) r.reasons[o.why] = (r.reasons[o.why] ?? 0) + 1;
        if (o.outcome === 'refused' && r.refusedSample.length < 20) r.refusedSample.push({ id: o.id, why: o.why ?? '' });
      }
      for (const t of erasure?.tables ?? []) tables.add(t);
      cp.after = ids[ids.length - 1];
      cp.tables = [...tables];
      const done = r.changed + r.unchanged + r.refused;
      const kept = await reportJobProgress(ctx, trx, { id: job.id, workerId: control.workerId, leaseMs: LEASE_MS }, done, total, cp);
      // Lost the lease (cancelled, or another worker took over): this chunk rolls back.
      if (!kept) throw new JobLostError();
    });
    const r = cp.report;
    await hooks.onChunk?.(r.changed + r.unchanged + r.refused, total);
  }
}

/**
 * Runs a queued bulk job in this process (the CLI, with its progress bar). When a worker already
 * took it, follows the job's progress instead until it finishes.
 */
export async function runBulkJobHere(ctx: AppContext, jobId: string, onProgress: (done: number, total: number) => void): Promise<JobRow> {
  const workerId = `cli:${process.pid}:${newId().slice(-6)}`;
  const now = ctx.clock.now();
  const claimed = await ctx.db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      lease_owner: workerId,
      lease_expires_at: new Date(now.getTime() + LEASE_MS).toISOString(),
      attempts: eb('attempts', '+', 1),
      updated_at: now.toISOString(),
    }))
    .where('id', '=', jobId)
    .where('status', '=', 'queued')
    .returningAll()
    .executeTakeFirst();
  if (claimed) {
    const control: JobControl = {
      workerId,
      checkpoint: <T>() => (claimed.checkpoint ? (JSON.parse(claimed.checkpoint) as T) : null),
      progress: async () => {},
    };
    try {
      const report = await runBulkJob(ctx, claimed, control, { onChunk: onProgress });
      await completeJob(ctx, jobId, workerId, report);
    } catch (error) {
      if (!(error instanceof JobLostError)) await failJob(ctx, claimed, workerId, error instanceof Error ? error.message : String(error));
      if (!(error instanceof JobLostError)) throw error;
    }
  }
  for (;;) {
    const row = await ctx.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
    onProgress(Number(row.progress_done), Number(row.progress_total ?? 0));
    if (['succeeded', 'failed', 'cancelled'].includes(row.status)) return row;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
