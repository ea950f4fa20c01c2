import type { AppContext } from '../context.ts';
import { dispatchDueMail } from '../mail/dispatcher.ts';
import { smtpTransport, type MailTransport } from '../mail/transport.ts';
import { startWorker, type JobHandler, type RunningWorker, type Tick } from './worker.ts';

/** Every job kind the worker runs, by name. A domain with background work adds its handler here. */
export const jobHandlers: Record<string, JobHandler> = {};

/** Starts the worker with every handler and periodic task (the mail outbox). */
export function startLetheWorker(ctx: AppContext, options: { pollMs?: number; transport?: MailTransport | null } = {}): RunningWorker & { transport: MailTransport | null } {
  const transport = options.transport !== undefined ? options.transport : ctx.config.smtpUrl ? smtpTransport(ctx.config.smtpUrl) : null;
  const mailTick: Tick = (c) => dispatchDueMail(c, transport);
  const worker = startWorker(ctx, { handlers: jobHandlers, ticks: [mailTick], pollMs: options.pollMs });
  return {
    ...worker,
    transport,
    async stop() {
      await worker.stop();
      transport?.close();
    },
  };
}
