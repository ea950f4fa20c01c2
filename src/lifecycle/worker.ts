import type { JobHandler, Tick } from '../jobs/worker.ts';
import { deliverDueWebhooks } from '../webhooks/delivery.ts';
import { BULK_JOB_KIND, runBulkJob } from './bulk/bulk-job.ts';
import { settleErasureNotices } from './erasure-notices.ts';
import { runScrub, SCRUB_JOB_KIND } from './storage.ts';

/** The lifecycle's background work, registered in src/jobs/registry.ts. */
export const lifecycleJobHandlers: Record<string, JobHandler> = {
  [BULK_JOB_KIND]: (ctx, job, control) => runBulkJob(ctx, job, control),
  [SCRUB_JOB_KIND]: (ctx, job) => runScrub(ctx, job),
};

/** Run after the mail tick: an expunge confirmation is settled once the dispatcher has sent it. */
export const lifecycleTicks: Tick[] = [settleErasureNotices, (ctx) => deliverDueWebhooks(ctx)];
