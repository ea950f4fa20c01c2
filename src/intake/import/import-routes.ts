import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { AppContext, Db } from '../../context.ts';
import type { App } from '../../http/app.ts';
import { requireAuth, requirePermission, tenantOf } from '../../access/auth.ts';
import { idParams } from '../../access/route-schemas.ts';
import { Problem, invalidField } from '../../http/problem.ts';
import { duplicatePolicies, type DuplicatePolicy } from '../../db/schema.ts';
import { getJob } from '../../jobs/queue.ts';
import { jobView, toJobView } from '../../jobs/routes.ts';
import { getImport, importErrorLines, importView, listImports, type ImportRow, type ImportView } from './imports.ts';
import { MappingOptionError, parseMappingOption } from './mapping-option.ts';
import { uploadImport } from './upload.ts';

const importViewSchema = z.object({
  id: z.string(),
  status: z.enum(['uploading', 'pending', 'running', 'succeeded', 'failed', 'cancelled']),
  fileName: z.string(),
  fileBytes: z.number(),
  organizationId: z.string().nullable(),
  onDuplicate: z.enum(duplicatePolicies),
  mapping: z.array(z.object({ column: z.number(), header: z.string(), field: z.string().nullable() })).nullable(),
  rows: z.object({ total: z.number().nullable(), done: z.number() }),
  summary: z.object({
    created: z.number(),
    updated: z.number(),
    skippedDuplicate: z.number(),
    invalid: z.number(),
    suppressed: z.number(),
    blank: z.number(),
  }),
  error: z.string().nullable(),
  jobId: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  errorsUrl: z.string(),
});

const uploadQuery = z.object({
  fileName: z.string().min(1).max(255).optional(),
  organizationId: z.string().max(200).optional(),
  onDuplicate: z.enum(duplicatePolicies).optional(),
  mapping: z.string().max(20_000).optional(),
});


/** A job that was cancelled while its import waited shows as a cancelled import. */
async function viewWithJob(db: Db, institutionId: string, row: ImportRow): Promise<ImportView> {
  const view = importView(row);
  if ((row.status === 'pending' || row.status === 'running') && row.job_id) {
    const job = await getJob(db, institutionId, row.job_id);
    if (job?.status === 'cancelled') view.status = 'cancelled';
  }
  return view;
}

async function organizationFor(ctx: AppContext, request: FastifyRequest, institutionId: string, wanted: string | undefined): Promise<string | null> {
  if (!wanted) return requireAuth(request).user.organizationId;
  const orgs = await ctx.db.selectFrom('organizations').select(['id', 'name']).where('institution_id', '=', institutionId).execute();
  const found = orgs.find((o) => o.id === wanted) ?? orgs.find((o) => o.name.toLowerCase() === wanted.trim().toLowerCase());
  if (!found) throw invalidField('organizationId', 'is not an organization of this institution');
  return found.id;
}

function mappingOf(text: string | undefined) {
  try {
    return parseMappingOption(text);
  } catch (error) {
    if (error instanceof MappingOptionError) throw invalidField('mapping', error.message);
    throw error;
  }
}

const csvTypes = ['text/csv', 'application/csv', 'text/plain', 'application/octet-stream', 'application/vnd.ms-excel'];

export async function importRoutes(app: App, ctx: AppContext): Promise<void> {
  const canImport = requirePermission(ctx, 'imports.run');
  const tags = ['imports'];

  // Uploads stream: their own scope takes CSV bodies and multipart forms as streams, past the
  // JSON body limit of the rest of the API (the import enforces LETHE_IMPORT_MAX_MB itself).
  await app.register(async (scope: App) => {
    scope.addContentTypeParser(csvTypes, (_request, payload, done) => done(null, payload));
    await scope.register(multipart, { limits: { fileSize: ctx.config.importMaxBytes + 1, files: 1, fields: 10, parts: 11 } });
    scope.post(
      '/api/imports',
      {
        preValidation: canImport,
        schema: {
          tags,
          summary: 'Upload a CSV file to import (raw text/csv body or a multipart form with one file); a job then imports it',
          description:
            'Options in the query string (or, for multipart, as form fields before the file): `organizationId` (id or name; default: your organization), ' +
            '`onDuplicate` skip | fill_empty | overwrite (default skip), `mapping` as `Header=field,Other=attr:key` (an empty field leaves the column out) or a JSON object, ' +
            '`fileName`. The file is checked completely (UTF-8, CSV structure, header mapping) before anything is queued: a bad file answers 422 and nothing is kept. ' +
            'Follow the import at GET /api/imports/{id} or the job at GET /api/jobs/{id}.',
          querystring: uploadQuery,
          response: { 202: z.object({ import: importViewSchema, job: jobView }) },
        },
      },
      async (request, reply) => {
        const institutionId = tenantOf(request);
        const auth = requireAuth(request);
        let options = request.query;
        let body: AsyncIterable<Buffer | Uint8Array | string>;
        let fileName = options.fileName ?? 'upload.csv';
        if (request.isMultipart()) {
          const part = await request.file();
          if (!part) throw new Problem(400, 'The form has no file: send the CSV as a file field.', [{ field: 'file', message: 'is required' }]);
          const fields: Record<string, string> = {};
          for (const [name, value] of Object.entries(part.fields)) {
            const field = Array.isArray(value) ? value[0] : value;
            if (field && field.type === 'field' && typeof field.value === 'string') fields[name] = field.value;
          }
          const merged = uploadQuery.safeParse({ ...fields, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) });
          if (!merged.success) throw new Problem(400, `The form is not valid: ${merged.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
          options = merged.data;
          fileName = options.fileName ?? part.filename ?? fileName;
          body = part.file;
        } else if (request.body && typeof (request.body as Readable).pipe === 'function') {
          body = request.body as Readable;
        } else {
          throw new Problem(415, 'Send the CSV file as the request body (Content-Type: text/csv) or as a multipart/form-data file.');
        }
        const organizationId = await organizationFor(ctx, request, institutionId, options.organizationId);
        const { row, jobId } = await uploadImport(ctx, body, {
          institutionId,
          organizationId,
          fileName,
          mapping: mappingOf(options.mapping),
          onDuplicate: (options.onDuplicate ?? 'skip') as DuplicatePolicy,
          actor: auth.actor,
        });
        const job = await getJob(ctx.db, institutionId, jobId);
        reply.code(202).header('location', `/api/imports/${row.id}`);
        return { import: importView(row), job: toJobView(job!) };
      },
    );
  });

  app.get(
    '/api/imports',
    {
      preValidation: canImport,
      schema: {
        tags,
        summary: 'Imports of this institution, newest first',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ items: z.array(importViewSchema) }) },
      },
    },
    async (request) => {
      const institutionId = tenantOf(request);
      const rows = await listImports(ctx.db, institutionId, request.query.limit);
      return { items: await Promise.all(rows.map((r) => viewWithJob(ctx.db, institutionId, r))) };
    },
  );

  app.get(
    '/api/imports/:id',
    {
      preValidation: canImport,
      schema: {
        tags,
        summary: 'An import: status, progress and summary (created, updated, skipped as duplicate, invalid, suppressed)',
        params: idParams,
        response: { 200: importViewSchema },
      },
    },
    async (request) => {
      const institutionId = tenantOf(request);
      return viewWithJob(ctx.db, institutionId, await getImport(ctx.db, institutionId, request.params.id));
    },
  );

  app.get(
    '/api/imports/:id/errors.csv',
    {
      preValidation: canImport,
      schema: {
        tags,
        summary: 'The error report of an import as CSV: row (the header is row 1), field, message; one line per problem',
        params: idParams,
      },
    },
    async (request, reply) => {
      const institutionId = tenantOf(request);
      const row = await getImport(ctx.db, institutionId, request.params.id);
      async function* lines(): AsyncGenerator<string> {
        yield stringify([['row', 'field', 'message']]);
        for await (const page of importErrorLines(ctx.db, row.id)) yield stringify(page.map((e) => [e.row, e.field, e.message]));
      }
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="import-${row.id}-errors.csv"`)
        .header('cache-control', 'no-store');
      return reply.send(Readable.from(lines()));
    },
  );
}
