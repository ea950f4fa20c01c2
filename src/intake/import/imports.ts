import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Selectable } from 'kysely';
import type { AppContext, Db } from '../../context.ts';
import type { DuplicatePolicy, ImportsTable } from '../../db/schema.ts';
import { newId } from '../../ids.ts';
import type { Actor } from '../../audit/audit-log.ts';
import { recordAudit } from '../../audit/audit-log.ts';
import { enqueueJob } from '../../jobs/queue.ts';
import { notFound, Problem } from '../../http/problem.ts';
import { listDefinitions } from '../../contacts/attributes.ts';
import { readIntakeSettings } from '../settings.ts';
import { applyMappingOverride, autoMapHeaders, type ColumnMapping } from '../rules/csv-mapping.ts';
import { CsvFormatError, CsvReader, fileChunks } from './csv-reader.ts';
import { planColumns, prepareRow, type ImportAttribute, type PrepareContext } from './prepare-row.ts';
import { writeChunk, type ChunkCounts, type EmployerCache, type ImportJobInfo } from './write-chunk.ts';
import type { MappingOverride } from './mapping-option.ts';
import { boundHeap } from './heap-bound.ts';
import { POSSIBLE_DUPLICATES_SCAN_JOB } from '../possible-duplicates/queue.ts';
import { writingInBulk } from '../../db/bulk-writing.ts';

export type ImportRow = Selectable<ImportsTable>;

export const IMPORT_JOB = 'import.csv';

/** A problem with the file or its mapping that no retry can fix: the import stops with this message. */
export class ImportRefused extends Problem {
  constructor(detail: string, errors?: { field: string; message: string }[]) {
    super(422, detail, errors);
  }
}

/** Another process advanced this import (a resumed run raced an old one); this run stops writing. */
export class ImportTakenOver extends Error {
  constructor() {
    super('another process is running this import; this one stopped without writing');
  }
}

export interface ImportOptions {
  institutionId: string;
  organizationId: string | null;
  fileName: string;
  mapping: MappingOverride;
  onDuplicate: DuplicatePolicy;
  actor: Actor;
}

export interface ImportSummary {
  created: number;
  updated: number;
  skippedDuplicate: number;
  invalid: number;
  suppressed: number;
  blank: number;
}

export interface ImportView {
  id: string;
  status: ImportRow['status'];
  fileName: string;
  fileBytes: number;
  organizationId: string | null;
  onDuplicate: DuplicatePolicy;
  mapping: { column: number; header: string; field: string | null }[] | null;
  rows: { total: number | null; done: number };
  summary: ImportSummary;
  error: string | null;
  jobId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  errorsUrl: string;
}

export function importView(row: ImportRow): ImportView {
  const columns = row.columns ? (JSON.parse(row.columns) as ColumnMapping[]) : null;
  return {
    id: row.id,
    status: row.status,
    fileName: row.file_name,
    fileBytes: Number(row.file_bytes),
    organizationId: row.organization_id,
    onDuplicate: row.on_duplicate,
    mapping: columns ? columns.map((c) => ({ column: c.index + 1, header: c.header, field: c.target })) : null,
    rows: { total: row.rows_total === null ? null : Number(row.rows_total), done: Number(row.rows_done) },
    summary: summaryOf(row),
    error: row.error,
    jobId: row.job_id,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    errorsUrl: `/api/imports/${row.id}/errors.csv`,
  };
}

export function summaryOf(row: ImportRow): ImportSummary {
  return {
    created: Number(row.created_count),
    updated: Number(row.updated_count),
    skippedDuplicate: Number(row.duplicate_count),
    invalid: Number(row.invalid_count),
    suppressed: Number(row.suppressed_count),
    blank: Number(row.blank_count),
  };
}

export async function getImport(db: Db, institutionId: string, id: string): Promise<ImportRow> {
  const row = await db.selectFrom('imports').selectAll().where('institution_id', '=', institutionId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Import');
  return row;
}

export async function listImports(db: Db, institutionId: string, limit: number): Promise<ImportRow[]> {
  return db.selectFrom('imports').selectAll().where('institution_id', '=', institutionId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

function newImportRow(ctx: AppContext, opts: ImportOptions, file: { bytes: number; sha256: string; storage: 'db' | 'path'; path: string | null }, status: ImportRow['status']): ImportRow {
  const now = ctx.clock.now().toISOString();
  return {
    id: newId(),
    institution_id: opts.institutionId,
    organization_id: opts.organizationId,
    job_id: null,
    created_by: opts.actor.userId,
    actor_label: opts.actor.label,
    file_name: opts.fileName.slice(0, 255),
    file_bytes: file.bytes,
    file_sha256: file.sha256,
    storage: file.storage,
    file_path: file.path,
    mapping: JSON.stringify(opts.mapping),
    columns: null,
    on_duplicate: opts.onDuplicate,
    status,
    rows_total: null,
    rows_done: 0,
    created_count: 0,
    updated_count: 0,
    duplicate_count: 0,
    invalid_count: 0,
    suppressed_count: 0,
    blank_count: 0,
    error: null,
    created_at: now,
    started_at: null,
    updated_at: now,
    finished_at: null,
  };
}

async function sha256OfFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * An import of a local file (the CLI). Running the same command again on the same file (same
 * content, organization, mapping and policy) continues the unfinished import instead of
 * starting another, so a killed run is simply rerun.
 */
export async function createOrResumeFileImport(ctx: AppContext, file: string, opts: ImportOptions): Promise<{ row: ImportRow; resumed: boolean }> {
  const absolute = path.resolve(file);
  const { sha256, bytes } = await sha256OfFile(absolute);
  const unfinished = await ctx.db
    .selectFrom('imports')
    .selectAll()
    .where('institution_id', '=', opts.institutionId)
    .where('file_sha256', '=', sha256)
    .where('status', 'in', ['pending', 'running', 'failed'])
    .where('storage', '=', 'path')
    .where('on_duplicate', '=', opts.onDuplicate)
    .where('mapping', '=', JSON.stringify(opts.mapping))
    .orderBy('created_at', 'desc')
    .execute();
  const same = unfinished.find((r) => r.organization_id === opts.organizationId);
  if (same) {
    await ctx.db.updateTable('imports').set({ file_path: absolute, updated_at: ctx.clock.now().toISOString() }).where('id', '=', same.id).execute();
    return { row: { ...same, file_path: absolute }, resumed: true };
  }
  const row = newImportRow(ctx, opts, { bytes, sha256, storage: 'path', path: absolute }, 'pending');
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('imports').values(row).execute();
    await recordAudit(ctx, trx, {
      institutionId: opts.institutionId,
      actor: opts.actor,
      action: 'import.create',
      target: { type: 'import', id: row.id },
      meta: { fileName: row.file_name, bytes, onDuplicate: opts.onDuplicate, organizationId: opts.organizationId, via: 'file' },
    });
  });
  return { row, resumed: false };
}

/** The file's bytes: from the uploaded chunks, or from the local file a CLI import names. */
function sourceOf(db: Db, row: ImportRow): AsyncIterable<Buffer> {
  if (row.storage === 'path') {
    if (!row.file_path || !fs.existsSync(row.file_path)) throw new ImportRefused(`The file ${row.file_path ?? ''} of this import is no longer there; run the import again with the file.`);
    return fileChunks(row.file_path);
  }
  return storedChunks(db, row.id);
}

export async function* storedChunks(db: Db, importId: string): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const chunk = await db.selectFrom('import_file_chunks').select('data').where('import_id', '=', importId).where('seq', '=', seq).executeTakeFirst();
    if (!chunk) return;
    yield Buffer.isBuffer(chunk.data) ? chunk.data : Buffer.from(chunk.data as Uint8Array);
  }
}

export interface ImportContextData {
  attributes: Map<string, ImportAttribute>;
  organizations: Map<string, string>;
}

export async function loadImportContext(db: Db, institutionId: string): Promise<ImportContextData> {
  const definitions = await listDefinitions(db, institutionId);
  const orgs = await db.selectFrom('organizations').select(['id', 'name']).where('institution_id', '=', institutionId).execute();
  const organizations = new Map<string, string>();
  for (const o of orgs) {
    organizations.set(o.id, o.id);
    if (!organizations.has(o.name.trim().toLowerCase())) organizations.set(o.name.trim().toLowerCase(), o.id);
  }
  return { attributes: new Map(definitions.map((d) => [d.key, { id: d.id, key: d.key, label: d.label, type: d.type, options: d.options }])), organizations };
}

/** The header's mapping (automatic, then the override), or a 422 naming every problem. */
export function resolveMapping(header: string[], override: MappingOverride, attributes: Map<string, ImportAttribute>): ColumnMapping[] {
  const refs = [...attributes.values()].map((a) => ({ key: a.key, label: a.label ?? a.key }));
  const auto = autoMapHeaders(
    header.map((h) => h.trim()),
    refs,
  );
  const result = applyMappingOverride(auto, override, refs);
  if (!result.ok) {
    throw new ImportRefused(`The column mapping cannot be used: ${result.errors.map((e) => e.message).join(' ')}`, result.errors.map((e) => ({ field: `mapping.${e.header}`, message: e.message })));
  }
  const targets = new Set(result.mapping.map((c) => c.target));
  const missing = (['firstName', 'lastName'] as const).filter((t) => !targets.has(t));
  if (missing.length) {
    const unmapped = result.mapping.filter((c) => c.target === null).map((c) => `"${c.header}"`);
    throw new ImportRefused(
      `No column holds the contact's ${missing.join(' and ')}. Map one with a mapping such as "Surname=lastName"${unmapped.length ? `; unmapped columns: ${unmapped.join(', ')}` : ''}.`,
      missing.map((m) => ({ field: `mapping.${m}`, message: 'no column is mapped to it' })),
    );
  }
  return result.mapping;
}

export interface RunHooks {
  /** after each committed chunk: data rows handled so far and bytes read */
  onProgress?: (rowsDone: number, bytesRead: number) => Promise<void> | void;
}

async function fail(ctx: AppContext, row: ImportRow, message: string, status: 'failed' | 'cancelled' = 'failed'): Promise<void> {
  const now = ctx.clock.now().toISOString();
  await ctx.db
    .updateTable('imports')
    .set({ status, error: message.slice(0, 2000), updated_at: now, finished_at: now })
    .where('id', '=', row.id)
    .where('status', 'not in', ['succeeded'])
    .execute();
}

/** Marks an import failed or cancelled (used when its job is cancelled or gives up). */
export async function stopImport(ctx: AppContext, importId: string, message: string, status: 'failed' | 'cancelled'): Promise<void> {
  const row = await ctx.db.selectFrom('imports').selectAll().where('id', '=', importId).executeTakeFirst();
  if (row) await fail(ctx, row, message, status);
}

/**
 * Runs (or resumes) an import to its end. Each chunk of rows commits in one transaction together
 * with the checkpoint (rows_done), which the transaction first advances from the value this run
 * read: a second process on the same import finds the checkpoint moved and stops, so no row is
 * ever handled twice, and a killed run resumes exactly after the last committed chunk.
 */
export async function runImport(ctx: AppContext, importId: string, hooks: RunHooks = {}): Promise<ImportRow> {
  let row = await ctx.db.selectFrom('imports').selectAll().where('id', '=', importId).executeTakeFirst();
  if (!row) throw notFound('Import');
  if (row.status === 'succeeded') return row;
  const startedAt = row.started_at ?? ctx.clock.now().toISOString();
  await ctx.db
    .updateTable('imports')
    .set({ status: 'running', started_at: startedAt, error: null, finished_at: null, updated_at: ctx.clock.now().toISOString() })
    .where('id', '=', row.id)
    .execute();
  row = { ...row, status: 'running', started_at: startedAt, error: null };

  try {
    const settings = await readIntakeSettings(ctx.db, row.institution_id);
    const data = await loadImportContext(ctx.db, row.institution_id);
    const reader = new CsvReader(sourceOf(ctx.db, row));
    const [header] = await reader.read(1);
    if (!header) throw new ImportRefused('The file is empty: it has no header row.');
    const mapping = resolveMapping(header.cells, JSON.parse(row.mapping) as MappingOverride, data.attributes);
    if (!row.columns) {
      row.columns = JSON.stringify(mapping);
      await ctx.db.updateTable('imports').set({ columns: row.columns }).where('id', '=', row.id).execute();
    }
    const prepareContext: PrepareContext = {
      mapping,
      attributes: data.attributes,
      organizations: data.organizations,
      defaultRegion: settings.defaultRegion,
      piiHashKey: ctx.secrets.piiHashKey,
    };
    const plan = planColumns(prepareContext);
    const job: ImportJobInfo = {
      id: row.id,
      institutionId: row.institution_id,
      organizationId: row.organization_id,
      policy: row.on_duplicate,
      rule: settings.duplicateRule,
      actor: { userId: row.created_by, label: row.actor_label },
    };
    const employers: EmployerCache = new Map();

    let done = Number(row.rows_done);
    const skipped = await reader.skip(done);
    if (skipped < done) throw new ImportRefused(`The file has fewer rows (${skipped}) than this import already handled (${done}); it is not the same file.`);
    const chunkRows = ctx.config.importChunkRows;
    // Bulk settings on SQLite (src/db/bulk-writing.ts), with the default page cache: an import has a memory budget.
    await writingInBulk(
      ctx,
      async () => {
        for (;;) {
          const batch = await reader.read(chunkRows);
          if (batch.length === 0) break;
          const prepared = batch.map((r) => prepareRow(prepareContext, plan, r.row, r.cells));
          const from = done;
          await ctx.db.transaction().execute(async (trx) => {
            // Claim the chunk first: on PostgreSQL this row lock also orders competing runs.
            const claimed = await trx
              .updateTable('imports')
              .set({ rows_done: from + batch.length })
              .where('id', '=', importId)
              .where('rows_done', '=', from)
              .where('status', '=', 'running')
              .executeTakeFirst();
            if (Number(claimed.numUpdatedRows) !== 1) throw new ImportTakenOver();
            const counts = await writeChunk(ctx, trx, job, prepared, employers);
            await addCounts(trx, importId, counts, ctx.clock.now().toISOString());
          });
          done += batch.length;
          boundHeap();
          await hooks.onProgress?.(done, reader.bytesRead);
        }
      },
      { largeCache: false },
    );

    const finishedAt = ctx.clock.now().toISOString();
    await ctx.db.transaction().execute(async (trx) => {
      await trx.updateTable('imports').set({ status: 'succeeded', rows_total: done, updated_at: finishedAt, finished_at: finishedAt }).where('id', '=', importId).execute();
      // The uploaded file holds personal data: it goes as soon as the import is done.
      await trx.deleteFrom('import_file_chunks').where('import_id', '=', importId).execute();
      const final = await trx.selectFrom('imports').selectAll().where('id', '=', importId).executeTakeFirstOrThrow();
      await recordAudit(ctx, trx, {
        institutionId: row!.institution_id,
        actor: job.actor,
        action: 'import.finish',
        target: { type: 'import', id: importId },
        meta: { rows: done, ...summaryOf(final) },
      });
      if (final.created_count > 0 || final.updated_count > 0) {
        await enqueueJob(trx, finishedAt, {
          institutionId: row!.institution_id,
          kind: POSSIBLE_DUPLICATES_SCAN_JOB,
          payload: { since: startedAt, importId },
          createdBy: row!.created_by,
        });
      }
    });
    return (await ctx.db.selectFrom('imports').selectAll().where('id', '=', importId).executeTakeFirstOrThrow()) as ImportRow;
  } catch (error) {
    if (error instanceof CsvFormatError || error instanceof ImportRefused) {
      const current = await ctx.db.selectFrom('imports').select('rows_done').where('id', '=', importId).executeTakeFirst();
      const handled = Number(current?.rows_done ?? 0);
      const kept = handled ? ` The ${handled} row(s) before it were imported and stay; nothing after it was read.` : ' Nothing was imported.';
      const message = error instanceof CsvFormatError ? `${error.message}${kept}` : error.message;
      await fail(ctx, row, message);
      if (error instanceof CsvFormatError) throw new ImportRefused(message, [{ field: 'file', message: error.message }]);
    }
    throw error;
  }
}

async function addCounts(trx: Db, importId: string, c: ChunkCounts, now: string): Promise<void> {
  await trx
    .updateTable('imports')
    .set((eb) => ({
      created_count: eb('created_count', '+', c.created),
      updated_count: eb('updated_count', '+', c.updated),
      duplicate_count: eb('duplicate_count', '+', c.duplicates),
      invalid_count: eb('invalid_count', '+', c.invalid),
      suppressed_count: eb('suppressed_count', '+', c.suppressed),
      blank_count: eb('blank_count', '+', c.blank),
      updated_at: now,
    }))
    .where('id', '=', importId)
    .execute();
}

/** Lines of the error report, in file order, a page at a time (constant memory for any size). */
export async function* importErrorLines(db: Db, importId: string): AsyncGenerator<{ row: number; field: string; message: string }[]> {
  let after: [number, number] = [-1, -1];
  for (;;) {
    const page = await db
      .selectFrom('import_errors')
      .select(['row_number', 'seq', 'field', 'message'])
      .where('import_id', '=', importId)
      .where((eb) => eb(eb.refTuple('row_number', 'seq'), '>', eb.tuple(after[0], after[1])))
      .orderBy('row_number')
      .orderBy('seq')
      .limit(5000)
      .execute();
    if (page.length === 0) return;
    yield page.map((p) => ({ row: Number(p.row_number), field: p.field, message: p.message }));
    const last = page[page.length - 1];
    after = [Number(last.row_number), last.seq];
  }
}

