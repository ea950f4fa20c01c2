import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { openContext } from '../runtime.ts';
import { buildApp } from '../http/app.ts';
import { seedDemoIfEmpty } from '../access/demo-seed.ts';
import { startLetheWorker } from '../jobs/registry.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the API, the console and the public pages (migrates the database first)')
    .option('--port <port>', 'port to listen on (overrides PORT)')
    .option('--host <host>', 'address to bind (overrides HOST)')
    .action(async (opts: { port?: string; host?: string }) => {
      const config = loadConfig({ ...process.env, ...(opts.port ? { PORT: opts.port } : {}), ...(opts.host ? { HOST: opts.host } : {}) });
      const ctx = await openContext(config);
      const demo = await seedDemoIfEmpty(ctx);
      const app = await buildApp(ctx);
      await app.listen({ port: config.port, host: config.host });
      // The embedded default is one command: serve also does the background work unless LETHE_WORKER=false.
      const worker = config.inProcessWorker ? startLetheWorker(ctx) : null;
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const url = `http://${['0.0.0.0', '127.0.0.1', '::'].includes(config.host) ? 'localhost' : config.host}:${port}`;
      process.stdout.write(`Lethe is serving on ${url} (database: ${ctx.store.kind})\n`);
      if (demo) {
        // Printed exactly once, on the start that created the demo institution; only a hash is stored.
        process.stdout.write(
          `\nCreated the demo institution "Demo University".\n` +
            `  Sign in at ${url} as ${demo.email}\n  password: ${demo.password}\n` +
            `This password is shown only now. Change it after signing in.\n\n`,
        );
      }
      const stop = async () => {
        await worker?.stop();
        await app.close();
        await ctx.store.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
