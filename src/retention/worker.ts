import type { JobHandler, Tick } from '../jobs/worker.ts';
import { runInactiveJob } from './inactive-job.ts';
import { INACTIVE_JOB_KIND } from './inactive-runs.ts';
import { retentionTick } from './schedule.ts';

/** Retention's background work, registered in src/jobs/registry.ts. */
export const retentionJobHandlers: Record<string, JobHandler> = {
  [INACTIVE_JOB_KIND]: (ctx, job, control) => runInactiveJob(ctx, job, control),
};

export const retentionTicks: Tick[] = [retentionTick];
