import { createHash } from 'node:crypto';
import type { AppContext } from '../../context.ts';
import { newId } from '../../ids.ts';
import { enqueueJob } from '../../jobs/queue.ts';
import { recordAudit } from '../../audit/audit-log.ts';
import { Problem } from '../../http/problem.ts';
import { CsvFormatError, CsvReader } from './csv-reader.ts';
import { IMPORT_JOB, ImportRefused, loadImportContext, resolveMapping, type ImportOptions, type ImportRow } from './imports.ts';

/**
 * An upload is stored in the database in 1 MiB chunks as it arrives (so any worker process, on
 * any machine, can stream it) and read through the CSV parser at the same time: a file that is
 * too large, not UTF-8, malformed, or whose header cannot be mapped is refused before any job
 * exists, and its stored bytes are deleted. Only a file that parses completely is queued.
 */

const STORED_CHUNK = 1 << 20;
const STALE_UPLOAD_MS = 3_600_000;

export class UploadTooLarge extends Problem {
  constructor(maxBytes: number) {
    super(413, `The file is larger than the ${Math.round(maxBytes / 1048576)} MiB this server accepts (LETHE_IMPORT_MAX_MB); split it and import the parts.`);
  }
}

export async function uploadImport(ctx: AppContext, body: AsyncIterable<Buffer | Uint8Array | string>, opts: ImportOptions): Promise<{ row: ImportRow; jobId: string }> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  // Uploads cut off by a crash left an 'uploading' row and some chunks: they hold personal data, so they go.
  await ctx.db
    .deleteFrom('imports')
    .where('institution_id', '=', opts.institutionId)
    .where('status', '=', 'uploading')
    .where('created_at', '<', new Date(now.getTime() - STALE_UPLOAD_MS).toISOString())
    .execute();

  const data = await loadImportContext(ctx.db, opts.institutionId);
  const id = newId();
  const row: ImportRow = {
    id,
    institution_id: opts.institutionId,
    organization_id: opts.organizationId,
    job_id: null,
    created_by: opts.actor.userId,
    actor_label: opts.actor.label,
    file_name: opts.fileName.slice(0, 255),
    file_bytes: 0,
    file_sha256: '',
    storage: 'db',
    file_path: null,
    mapping: JSON.stringify(opts.mapping),
    columns: null,
    on_duplicate: opts.onDuplicate,
    status: 'uploading',
    rows_total: null,
    rows_done: 0,
    created_count: 0,
    updated_count: 0,
    duplicate_count: 0,
    invalid_count: 0,
    suppressed_count: 0,
    blank_count: 0,
    error: null,
    created_at: at,
    started_at: null,
    updated_at: at,
    finished_at: null,
  };
  await ctx.db.insertInto('imports').values(row).execute();

  const hash = createHash('sha256');
  let bytes = 0;
  let seq = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const data = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await ctx.db.insertInto('import_file_chunks').values({ import_id: id, seq: seq++, data }).execute();
  };
  async function* storing(): AsyncGenerator<Buffer> {
    for await (const piece of body) {
      const chunk = typeof piece === 'string' ? Buffer.from(piece) : Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
      bytes += chunk.length;
      if (bytes > ctx.config.importMaxBytes) throw new UploadTooLarge(ctx.config.importMaxBytes);
      hash.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= STORED_CHUNK) await flush();
      yield chunk;
    }
    await flush();
  }

  try {
    const reader = new CsvReader(storing());
    const [header] = await reader.read(1);
    if (!header) throw new ImportRefused('The file is empty: it has no header row.', [{ field: 'file', message: 'is empty' }]);
    const columns = resolveMapping(header.cells, opts.mapping, data.attributes);
    let rows = 0;
    for (;;) {
      const batch = await reader.read(10_000);
      if (batch.length === 0) break;
      rows += batch.length;
    }
    if (rows === 0) throw new ImportRefused('The file has a header but no rows to import.', [{ field: 'file', message: 'has no rows' }]);
    const sha256 = hash.digest('hex');
    const jobId = await ctx.db.transaction().execute(async (trx) => {
      const job = await enqueueJob(trx, at, { institutionId: opts.institutionId, kind: IMPORT_JOB, payload: { importId: id }, createdBy: opts.actor.userId, total: rows });
      await trx
        .updateTable('imports')
        .set({ status: 'pending', job_id: job, file_bytes: bytes, file_sha256: sha256, rows_total: rows, columns: JSON.stringify(columns), updated_at: at })
        .where('id', '=', id)
        .execute();
      await recordAudit(ctx, trx, {
        institutionId: opts.institutionId,
        actor: opts.actor,
        action: 'import.create',
        target: { type: 'import', id },
        meta: { fileName: row.file_name, bytes, rows, onDuplicate: opts.onDuplicate, organizationId: opts.organizationId, via: 'upload', jobId: job },
      });
      return job;
    });
    return { row: { ...row, status: 'pending', job_id: jobId, file_bytes: bytes, file_sha256: sha256, rows_total: rows, columns: JSON.stringify(columns) }, jobId };
  } catch (error) {
    await ctx.db.deleteFrom('imports').where('id', '=', id).execute();
    if (error instanceof CsvFormatError) throw new ImportRefused(`The file cannot be imported: ${error.message} Nothing was stored.`, [{ field: 'file', message: error.message }]);
    throw error;
  }
}
