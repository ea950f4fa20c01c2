import type { Command } from 'commander';
import { newProgram, runProgram } from './cli/program.ts';
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
  const program = newProgram();
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

export function main(argv: string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
