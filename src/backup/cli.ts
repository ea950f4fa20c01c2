import path from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadConfig } from '../config.ts';
import { CliError } from '../cli/errors.ts';
import { existingServerSecret } from '../security/server-secret.ts';
import { backupSqlite, restoreSqlite, type PageProgress } from './sqlite-backup.ts';

const POSTGRES_GUIDANCE = [
  'lethe backup and restore work on the embedded SQLite database. On PostgreSQL use its own tools:',
  '  pg_dump --format=custom --file=lethe-$(date +%F).dump "$DATABASE_URL"',
  '  pg_restore --clean --if-exists --dbname="$DATABASE_URL" lethe-YYYY-MM-DD.dump',
  'Keep LETHE_SECRET with the dump (separately): without it the sealed keys in the dump cannot be used.',
  'See docs/operations.md, "Backups", for how long backups may be kept.',
].join('\n');

const databaseFile = (dataDir: string) => path.join(dataDir, 'lethe.db');

/** Restore never generates a secret: a new one could not open the keys sealed in the backup. */
function existingSecret(secret: string | undefined, dataDir: string): string {
  const found = existingServerSecret({ secret, dataDir });
  if (found) return found;
  throw new CliError(`No server secret: put the secret.key the backup was taken with into ${dataDir} (or set LETHE_SECRET to it), then run again. Nothing was changed.`);
}

function pageProgress(label: string): { onProgress: PageProgress; stop(): void } {
  if (!process.stderr.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} pages`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    onProgress(done, total) {
      if (!started) (bar.start(total, done), (started = true));
      else bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('copy the embedded SQLite database to FILE while the server keeps running')
    .argument('<file>', 'where to write the backup (must not exist)')
    .action(async (file: string) => {
      const config = loadConfig();
      if (config.databaseUrl) throw new CliError(POSTGRES_GUIDANCE);
      const progress = pageProgress('backing up');
      try {
        const summary = await backupSqlite(databaseFile(config.dataDir), file, progress.onProgress);
        progress.stop();
        process.stdout.write(`Backup written to ${summary.file} (${summary.bytes.toLocaleString('en-US')} bytes, migration ${summary.migration}).\n`);
        process.stdout.write('The server secret is not in the backup: keep secret.key (or LETHE_SECRET) safe and separately.\n');
      } finally {
        progress.stop();
      }
    });

  program
    .command('restore')
    .description('replace the embedded SQLite database with a backup (stop the server and workers first)')
    .argument('<file>', 'a file written by `lethe backup`')
    .option('--force', 'replace an existing database')
    .action(async (file: string, opts: { force?: boolean }) => {
      const config = loadConfig();
      if (config.databaseUrl) throw new CliError(POSTGRES_GUIDANCE);
      const secret = existingSecret(config.secret, config.dataDir);
      const summary = restoreSqlite(file, databaseFile(config.dataDir), { force: Boolean(opts.force), secret });
      process.stdout.write(`Restored ${summary.file} from ${file} (migration ${summary.migration}). Start the server: it applies any newer migrations.\n`);
    });
}
