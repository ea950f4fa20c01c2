import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.ts';
import type { JobRow } from '../jobs/queue.ts';
import { JobLostError, type JobControl } from '../jobs/worker.ts';
import { systemActor } from '../audit/audit-log.ts';
import type { Viewer } from '../contacts/visibility.ts';
import { writeArchive, type ExportTable } from './archive.ts';
import { loadExport, moveExport, scrubbedScope, type ExportRow } from './exports.ts';
import { createFileKey, deleteFileKey, downloadUrl, exportFilePath, exportsDir, hashLinkToken, newLinkToken, removeFile } from './files.ts';
import { notifyParties } from './notify.ts';
import { sealStream } from './sealed-file.ts';
import { readExportSettings } from './settings.ts';
import { contactsTable, countScopeContacts, projectTables, sequenceTables, type ExportScope } from './sources.ts';
import { subjectAccessFiles } from './subject-data.ts';

/** Deflate level: exports are short-lived files, so speed wins over the last few percent of size. */
export const COMPRESSION_LEVEL = 1;
const PROGRESS_EVERY = 10_000;

function manifestOf(row: ExportRow, producedAt: string) {
  return (counts: Record<string, number>) => ({
    exportId: row.id,
    kind: row.kind,
    format: row.format,
    scope: scrubbedScope(JSON.parse(row.scope) as ExportScope),
    producedAt,
    rows: counts,
    note: 'Produced by Lethe. This copy was delivered once through a one-time link; Lethe destroyed its file and key after delivery. Keep it safe: it holds personal data.',
  });
}

async function fail(ctx: AppContext, row: ExportRow, message: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const current = await loadExport(trx, row.id, undefined, true);
    if (!current || current.status !== 'producing') return;
    const failed = await moveExport(ctx, trx, current, 'failed', systemActor, { scope: JSON.stringify(scrubbedScope(JSON.parse(current.scope))) }, { error: message.slice(0, 200) });
    await deleteFileKey(trx, row.id);
    await notifyParties(ctx, trx, failed, { type: 'failed' }, ['requester']);
  });
}

/**
 * The worker job that produces an export: contacts (then projects and sequences) stream page by
 * page through CSV/JSON into a zip, through per-export AES-256-GCM into a file under
 * LETHE_DATA_DIR/exports; memory stays flat whatever the size. A retried attempt starts the file
 * over with a new key. Only when the file is complete does the export become ready, and its
 * one-time link goes to whoever receives it.
 */
export async function produceExport(ctx: AppContext, job: JobRow, control: JobControl): Promise<unknown> {
  const { exportId } = JSON.parse(job.payload) as { exportId: string };
  let row = await loadExport(ctx.db, exportId);
  if (!row) return { skipped: 'missing' };
  if (row.status === 'approved') {
    const approved = row;
    row = await ctx.db.transaction().execute((trx) => moveExport(ctx, trx, approved, 'producing', systemActor, {}, { jobId: job.id }));
  } else if (row.status !== 'producing') {
    return { skipped: row.status };
  }

  const key = await createFileKey(ctx, ctx.db, row.id);
  fs.mkdirSync(exportsDir(ctx), { recursive: true, mode: 0o700 });
  // What an earlier attempt (a crashed worker) left behind is unreadable without its key; remove it.
  for (const stale of fs.readdirSync(exportsDir(ctx)).filter((f) => f.startsWith(`${row.id}.`) && f.endsWith('.part'))) removeFile(path.join(exportsDir(ctx), stale));
  const part = path.join(exportsDir(ctx), `${row.id}.${job.attempts}.part`);
  // opened now, so an early failure can always remove it
  const file = fs.createWriteStream('', { fd: fs.openSync(part, 'w', 0o600) });
  const producedAt = ctx.clock.now();
  const scope = JSON.parse(row.scope) as ExportScope;
  const viewer = JSON.parse(row.viewer) as Viewer;
  try {
    let tables: ExportTable[] = [];
    let files: { name: string; content: Buffer }[] = [];
    let total: number;
    if (scope.type === 'subject') {
      files = await subjectAccessFiles(ctx, row.institution_id, scope.contactIds, producedAt);
      total = scope.contactIds.length;
    } else {
      tables = [await contactsTable(ctx, row.institution_id, scope, viewer), ...projectTables(ctx, row.institution_id, scope, viewer), ...sequenceTables(ctx, row.institution_id, scope, viewer)];
      total = await countScopeContacts(ctx, row.institution_id, scope, viewer);
    }
    await control.progress(0, total);
    let reported = 0;
    const counts = await writeArchive(tables, manifestOf(row, producedAt.toISOString()), [sealStream(key, row.id), file], {
      format: row.format,
      mtime: producedAt,
      compressionLevel: COMPRESSION_LEVEL,
      files,
      onRows: async (table, rows) => {
        if (table === 'contacts' && rows - reported >= PROGRESS_EVERY) {
          reported = rows;
          await control.progress(rows, total);
        }
      },
    });
    const rowCount = scope.type === 'subject' ? scope.contactIds.length : (counts.contacts ?? 0);
    await control.progress(rowCount, total);
    const bytes = fs.statSync(part).size;
    const final = exportFilePath(ctx, row.id);
    fs.renameSync(part, final);

    const settings = await readExportSettings(ctx.db, row.institution_id);
    const now = ctx.clock.now();
    const expiresAt = new Date(now.getTime() + settings.linkTtlDays * 86_400_000).toISOString();
    const token = newLinkToken();
    const became = await ctx.db.transaction().execute(async (trx) => {
      const current = await loadExport(trx, exportId, undefined, true);
      if (!current || current.status !== 'producing') return null;
      const ready = await moveExport(
        ctx,
        trx,
        current,
        'ready',
        systemActor,
        { row_count: rowCount, file_bytes: bytes, token_hash: hashLinkToken(ctx, token), link_expires_at: expiresAt, ready_at: now.toISOString() },
        { rows: counts, bytes },
      );
      await notifyParties(ctx, trx, ready, { type: 'ready', link: downloadUrl(ctx, token), expiresAt }, [ready.deliver_to === 'contact' ? 'contact' : 'requester']);
      return ready;
    });
    if (!became) {
      // Destroyed (an erasure) while it was being written: nothing of it may stay.
      removeFile(final);
      await deleteFileKey(ctx.db, exportId);
      return { discarded: true };
    }
    return { rows: counts, bytes };
  } catch (error) {
    file.destroy();
    removeFile(part);
    if (error instanceof JobLostError) {
      // Cancelled (POST /api/jobs/:id/cancel) rather than taken over by another worker: the export ends here.
      const current = await ctx.db.selectFrom('jobs').select('status').where('id', '=', job.id).executeTakeFirst();
      if (current?.status === 'cancelled') await fail(ctx, row, 'the production job was cancelled');
    } else if (job.attempts >= job.max_attempts) {
      await fail(ctx, row, error instanceof Error ? error.message : String(error));
    }
    throw error;
  }
}
