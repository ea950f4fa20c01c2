import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { openContext } from '../runtime.ts';
import { startLetheWorker } from '../jobs/registry.ts';
import { newProgram, runProgram } from './program.ts';

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

/**
 * How far V8 lets the old generation grow past what the last full collection kept, before the
 * next one: twice (V8 allows up to four times when the process mostly waits, as a worker waiting
 * on PostgreSQL does). A worker keeps ~20 MB live while steps run and everything else it makes
 * is short-lived, so this bounds its memory at little cost: a full collection of that heap takes
 * ~10 ms, about one per 10,000 steps. Measured over 100,000 workflow steps on PostgreSQL: peak RSS
 * 183 MB without it, 145 MB with it, no slower. V8 reads the flag at every full collection, so
 * setting it here, as the worker starts (bin/lethe.js runs in this same process), takes effect.
 */
const OLD_GENERATION_GROWTH_PERCENT = 100;

/**
 * `lethe worker` on its own: bin/lethe.js runs this entry (its own bundle, dist/worker.js) for
 * that command, so a worker process never loads what only the other commands use (Fastify and
 * its plugins, the OpenAPI and route schemas): an idle worker takes ~105 MB instead of ~131 MB, and
 * its smaller live heap also lets the heap grow less between collections while steps run.
 */
export function main(argv: string[]): Promise<number> {
  setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
  const program = newProgram();
  registerWorker(program);
  return runProgram(program, argv);
}
