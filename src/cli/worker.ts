import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { openContext } from '../runtime.ts';
import { startLetheWorker } from '../jobs/registry.ts';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run background work: jobs (imports, bulk updates…) and the mail outbox; run several on PostgreSQL')
    .option('--once', 'run everything that is due, then exit')
    .action(async (opts: { once?: boolean }) => {
      const ctx = await openContext(loadConfig());
      const worker = startLetheWorker(ctx, { loop: !opts.once });
      if (opts.once) {
        const done = await worker.drain();
        await worker.stop();
        await ctx.store.close();
        process.stdout.write(`Worker finished ${done} item(s).\n`);
        return;
      }
      process.stdout.write(`Lethe worker ${worker.id} running (database: ${ctx.store.kind}; mail: ${worker.transport ? 'SMTP' : 'held in the outbox'})\n`);
      const stop = async () => {
        await worker.stop();
        await ctx.store.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // The loop's timer is unref'd and SQLite holds no socket: without this the process would
      // find its event loop empty at the first idle pause and exit (code 13) until told to stop.
      setInterval(() => {}, 2 ** 30);
      await new Promise(() => {});
    });
}
