import { Command, CommanderError } from 'commander';
import { describeCliError, exitCodes } from './cli/errors.ts';
import { registerServe } from './cli/serve.ts';
import { registerMigrate } from './cli/migrate.ts';
import { registerAudit } from './cli/audit.ts';
import { registerWorker } from './cli/worker.ts';
import { registerAccessCommands } from './access/cli.ts';
import { registerImportCommand } from './intake/import/import-cli.ts';
import { registerExportCommands } from './exports/cli.ts';
import { registerLifecycleCommands } from './lifecycle/cli.ts';
import { registerRetentionCommands } from './retention/cli.ts';
import { registerWorkflowCommands } from './workflows/cli.ts';
import { registerBackupCommands } from './backup/cli.ts';

export function buildProgram(): Command {
  const program = new Command('lethe')
    .description('Lethe: contact-data lifecycle and privacy engine')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServe(program);
  registerWorker(program);
  registerMigrate(program);
  registerAccessCommands(program);
  registerAudit(program);
  registerImportCommand(program);
  registerExportCommands(program);
  registerLifecycleCommands(program);
  registerRetentionCommands(program);
  registerWorkflowCommands(program);
  registerBackupCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    const { message, exitCode } = describeCliError(error);
    process.stderr.write(message.endsWith('\n') ? message : message + '\n');
    return exitCode;
  }
}
