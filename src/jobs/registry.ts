import type { AppContext } from '../context.ts';
import { dispatchDueMail } from '../mail/dispatcher.ts';
import { smtpTransport, type MailTransport } from '../mail/transport.ts';
import { purgeAbandonedApplications } from '../intake/verifications.ts';
import { startWorker, type JobHandler, type RunningWorker, type Tick } from './worker.ts';
import { importJobHandler } from '../intake/import/import-job.ts';
import { possibleDuplicatesScanHandler } from '../intake/possible-duplicates/queue.ts';
import { produceExport } from '../exports/produce.ts';
import { destroyExpiredExports } from '../exports/delivery.ts';
import { lifecycleJobHandlers, lifecycleTicks } from '../lifecycle/worker.ts';
import { retentionJobHandlers, retentionTicks } from '../retention/worker.ts';
import { workflowTicks } from '../workflows/worker.ts';

/** Every job kind the worker runs, by name. A domain with background work adds its handler here. */
export const jobHandlers: Record<string, JobHandler> = {};
jobHandlers['import.csv'] = importJobHandler;
jobHandlers['possible-duplicates.scan'] = possibleDuplicatesScanHandler;
jobHandlers['export.produce'] = produceExport;
Object.assign(jobHandlers, lifecycleJobHandlers);
Object.assign(jobHandlers, retentionJobHandlers);

/** Starts the worker with every handler and periodic task (the mail outbox). */
export function startLetheWorker(ctx: AppContext, options: { pollMs?: number; loop?: boolean; transport?: MailTransport | null } = {}): RunningWorker & { transport: MailTransport | null } {
  const transport = options.transport !== undefined ? options.transport : ctx.config.smtpUrl ? smtpTransport(ctx.config.smtpUrl) : null;
  const mailTick: Tick = (c) => dispatchDueMail(c, transport);
  const worker = startWorker(ctx, { handlers: jobHandlers, ticks: [...workflowTicks, mailTick, ...lifecycleTicks, ...retentionTicks, purgeAbandonedApplications, destroyExpiredExports], pollMs: options.pollMs, loop: options.loop });
  return {
    ...worker,
    transport,
    async stop() {
      await worker.stop();
      transport?.close();
    },
  };
}
