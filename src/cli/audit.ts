import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { openContext } from '../runtime.ts';
import { verifyAuditLog } from '../audit/verify.ts';
import { CliError, exitCodes } from './errors.ts';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('check every hash chain; exits 1 and lists the entries if anything was edited or removed')
    .action(async () => {
      const ctx = await openContext(loadConfig());
      try {
        const result = await verifyAuditLog(ctx.db, (n) => process.stderr.write(`\rchecked ${n} entries`));
        process.stderr.write('\n');
        if (!result.ok) {
          const lines = result.problems.map((p) => `  chain ${p.chain || '(platform)'} entry ${p.seq}: ${p.problem}`);
          throw new CliError(`Audit log verification FAILED:\n${lines.join('\n')}`, exitCodes.failed);
        }
        process.stdout.write(`Audit log intact: ${result.entries} entries in ${result.chains} chains.\n`);
      } finally {
        await ctx.store.close();
      }
    });
}
