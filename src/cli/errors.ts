import { ZodError } from 'zod';
import { ConfigError } from '../config.ts';
import { Problem } from '../http/problem.ts';
import { MissingSecretError } from '../security/server-secret.ts';

/** Exit codes: 0 done, 1 failed while working, 2 bad input or usage, 3 not found, 4 conflict. */
export const exitCodes = { ok: 0, failed: 1, usage: 2, notFound: 3, conflict: 4 } as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = exitCodes.usage) {
    super(message);
  }
}

/** Turns any error into a message a person can act on, and the exit code that goes with it. */
export function describeCliError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError || error instanceof MissingSecretError) return { message: error.message, exitCode: exitCodes.usage };
  if (error instanceof ZodError) {
    const lines = error.issues.map((i) => `  --${i.path.join('.') || 'input'}: ${i.message}`);
    return { message: `Invalid input:\n${lines.join('\n')}\nRun the command with --help to see what it expects.`, exitCode: exitCodes.usage };
  }
  if (error instanceof Problem) {
    const fields = error.errors?.map((e) => `  ${e.field}: ${e.message}`).join('\n');
    const code = error.status === 404 ? exitCodes.notFound : error.status === 409 ? exitCodes.conflict : error.status < 500 ? exitCodes.usage : exitCodes.failed;
    return { message: fields ? `${error.detail}\n${fields}` : error.detail, exitCode: code };
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = String((error as { code?: unknown })?.code ?? '');
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code) || (code === 'EACCES' || code === 'EROFS')) {
    return {
      message:
        `Cannot write to the database (${message}). Lethe needs write access to the database file and to its folder ` +
        `(LETHE_DATA_DIR: SQLite keeps its -wal and -shm files beside the file). Nothing was changed; fix the permissions and run the command again.`,
      exitCode: exitCodes.failed,
    };
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return {
      message:
        `The disk holding the database is full (${message}). The change being written was rolled back: what was committed before it is intact. ` +
        `Free some space (or move LETHE_DATA_DIR to a larger disk) and run the command again.`,
      exitCode: exitCodes.failed,
    };
  }
  if (/ECONNREFUSED|ENOTFOUND|password authentication|does not exist/.test(message)) {
    return { message: `Cannot reach the database: ${message}\nCheck DATABASE_URL, or unset it to use the embedded SQLite database.`, exitCode: exitCodes.failed };
  }
  return { message: `Failed: ${message}`, exitCode: exitCodes.failed };
}
