import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { migrations } from '../db/migrations/index.ts';
import { open } from '../security/aead.ts';
import { secretsFrom } from '../security/server-secret.ts';
import { CliError, exitCodes } from '../cli/errors.ts';

export interface BackupSummary {
  file: string;
  bytes: number;
  migration: string | null;
}

export type PageProgress = (pagesDone: number, pagesTotal: number) => void;

/**
 * SQLite's online backup, read through a connection of its own: it copies only committed data, and
 * the running server and workers carry on writing while it runs.
 */
export async function backupSqlite(source: string, destination: string, onProgress: PageProgress = () => {}): Promise<BackupSummary> {
  if (!fs.existsSync(source)) throw new CliError(`There is no database at ${source}: check LETHE_DATA_DIR.`, exitCodes.notFound);
  if (fs.existsSync(destination)) throw new CliError(`${destination} already exists; choose a new file name (a backup never overwrites one).`, exitCodes.conflict);
  fs.mkdirSync(path.dirname(path.resolve(destination)), { recursive: true });
  const partial = `${destination}.partial`;
  const db = new SQLite(source, { readonly: true, fileMustExist: true });
  try {
    await db.backup(partial, {
      progress({ totalPages, remainingPages }) {
        onProgress(totalPages - remainingPages, totalPages);
        return 1000;
      },
    });
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
  const checked = inspectBackup(partial);
  fs.renameSync(partial, destination);
  return { file: destination, bytes: fs.statSync(destination).size, migration: checked.migration };
}

interface BackupFacts {
  migration: string | null;
  /** a sealed data key, to check that the restoring server holds the secret it was sealed with */
  sampleKey: { subject_id: string; wrapped_key: string } | undefined;
}

/** Refuses anything that is not an intact Lethe database this version can run. */
export function inspectBackup(file: string): BackupFacts {
  if (!fs.existsSync(file)) throw new CliError(`There is no backup file at ${file}.`, exitCodes.notFound);
  let db: SQLite.Database;
  try {
    db = new SQLite(file, { readonly: true, fileMustExist: true });
  } catch {
    throw new CliError(`${file} is not a SQLite database; give the file \`lethe backup\` wrote.`);
  }
  try {
    let integrity: string;
    try {
      integrity = String(db.pragma('integrity_check', { simple: true }));
    } catch {
      throw new CliError(`${file} is not a SQLite database; give the file \`lethe backup\` wrote.`);
    }
    if (integrity !== 'ok') throw new CliError(`${file} is damaged (integrity check: ${integrity}); use another backup.`, exitCodes.failed);
    const hasMigrations = db.prepare(`select 1 from sqlite_master where type = 'table' and name = 'lethe_migrations'`).get();
    if (!hasMigrations) throw new CliError(`${file} is a SQLite database but not a Lethe one (it has no lethe_migrations table).`);
    const applied = (db.prepare('select name from lethe_migrations order by name').all() as { name: string }[]).map((r) => r.name);
    const unknown = applied.filter((name) => !(name in migrations));
    if (unknown.length) {
      throw new CliError(`${file} was written by a newer Lethe (migrations ${unknown.join(', ')} are unknown here); restore it with that version or newer.`);
    }
    const sampleKey = db.prepare('select subject_id, wrapped_key from data_keys limit 1').get() as BackupFacts['sampleKey'];
    return { migration: applied.at(-1) ?? null, sampleKey };
  } finally {
    db.close();
  }
}

/**
 * Puts a backup in place of the embedded database. The server and workers must be stopped: the
 * old file and its WAL are replaced underneath them.
 */
export function restoreSqlite(backup: string, target: string, opts: { force: boolean; secret: string }): BackupSummary {
  const facts = inspectBackup(backup);
  if (facts.sampleKey && !opensWith(opts.secret, facts.sampleKey)) {
    throw new CliError(
      'This backup was sealed with a different server secret: restore the secret.key it was taken with into LETHE_DATA_DIR (or set LETHE_SECRET to it) first. Nothing was changed.',
    );
  }
  if (fs.existsSync(target) && !opts.force) {
    throw new CliError(`A database already exists at ${target}; stop the server and workers, then run again with --force to replace it.`, exitCodes.conflict);
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const incoming = `${target}.restoring`;
  fs.copyFileSync(backup, incoming);
  for (const sidecar of [`${target}-wal`, `${target}-shm`]) fs.rmSync(sidecar, { force: true });
  fs.renameSync(incoming, target);
  return { file: target, bytes: fs.statSync(target).size, migration: facts.migration };
}

function opensWith(secret: string, sample: { subject_id: string; wrapped_key: string }): boolean {
  try {
    open(secretsFrom(secret).masterKey, sample.wrapped_key, sample.subject_id);
    return true;
  } catch {
    return false;
  }
}
