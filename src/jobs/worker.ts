import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { claimNextJob, completeJob, failJob, reportJobProgress, type JobRow } from './queue.ts';

export interface JobControl {
  /** records progress and a resume point; throws JobLostError when the job was cancelled or taken over */
  progress(done: number, total?: number | null, checkpoint?: unknown): Promise<void>;
  /** the resume point a previous attempt saved, or null */
  checkpoint<T>(): T | null;
  workerId: string;
}

export class JobLostError extends Error {
  constructor() {
    super('the job was cancelled or its lease was taken over');
  }
}

export type JobHandler = (ctx: AppContext, job: JobRow, control: JobControl) => Promise<unknown>;

/** Periodic work the worker does besides jobs (the mail outbox, schedules…). */
export type Tick = (ctx: AppContext) => Promise<number>;

export interface WorkerOptions {
  handlers: Record<string, JobHandler>;
  ticks?: Tick[];
  pollMs?: number;
  leaseMs?: number;
  /** false: no background polling loop, only `drain()` (for `lethe worker --once`, so two drains never race) */
  loop?: boolean;
}

export interface RunningWorker {
  id: string;
  stop(): Promise<void>;
  /** runs every due job and tick until nothing is left (used by tests and the CLI) */
  drain(): Promise<number>;
}

export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export async function runOneJob(ctx: AppContext, options: WorkerOptions, workerId: string): Promise<boolean> {
  const leaseMs = options.leaseMs ?? 60_000;
  const job = await claimNextJob(ctx, workerId, Object.keys(options.handlers), leaseMs);
  if (!job) return false;
  const control: JobControl = {
    workerId,
    async progress(done, total, checkpoint) {
      const kept = await reportJobProgress(ctx, ctx.db, { id: job.id, workerId, leaseMs }, done, total, checkpoint);
      if (!kept) throw new JobLostError();
    },
    checkpoint<T>() {
      return job.checkpoint ? (JSON.parse(job.checkpoint) as T) : null;
    },
  };
  try {
    const result = await options.handlers[job.kind](ctx, job, control);
    await untilWritten(ctx, () => completeJob(ctx, job.id, workerId, result), leaseMs);
  } catch (error) {
    if (error instanceof JobLostError) return true;
    const message = error instanceof Error ? error.message : String(error);
    ctx.log.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, error: message }, 'job attempt failed');
    await untilWritten(ctx, () => failJob(ctx, job, workerId, message), leaseMs);
  }
  return true;
}

/**
 * Writes an attempt's outcome, retrying while the database cannot be reached (a restart, a
 * failover: the attempt itself usually failed for that reason). Until the outcome is written the
 * job stays leased to this worker, so without this it would sit idle until its lease expired.
 */
async function untilWritten(ctx: AppContext, write: () => Promise<void>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (let waitMs = 250; ; waitMs = Math.min(waitMs * 2, 5000)) {
    try {
      return await write();
    } catch (error) {
      if (Date.now() + waitMs > deadline) throw error;
      ctx.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not record a job outcome; retrying');
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** Polls for due jobs and runs ticks until stopped. One loop per process; jobs run one at a time. */
export function startWorker(ctx: AppContext, options: WorkerOptions): RunningWorker {
  const id = newWorkerId();
  let stopped = false;
  let wake: (() => void) | null = null;
  let loop: Promise<void> = Promise.resolve();

  const drain = async () => {
    let work = 0;
    for (;;) {
      let did = 0;
      for (const tick of options.ticks ?? []) did += await tick(ctx);
      while (!stopped && (await runOneJob(ctx, options, id))) did++;
      work += did;
      if (did === 0 || stopped) return work;
    }
  };

  if (options.loop === false) return { id, drain, stop: async () => void (stopped = true) };

  loop = (async () => {
    while (!stopped) {
      try {
        await drain();
      } catch (error) {
        ctx.log.error({ error: error instanceof Error ? error.message : String(error) }, 'worker loop error; retrying');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.pollMs ?? 1000).unref();
      });
    }
  })();

  return {
    id,
    drain,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
