import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { requireAuth, requirePermission, tenantOf } from '../access/auth.ts';
import { forbidden, notFound } from '../http/problem.ts';
import { jobPermissions, mayHandleJob } from './job-permissions.ts';
import { cancelJob, getJob, type JobRow } from './queue.ts';
import { jobStatuses } from '../db/schema.ts';
import type { Permission } from '../access/permissions.ts';

export const jobView = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(jobStatuses),
  progress: z.object({ done: z.number(), total: z.number().nullable(), percent: z.number().nullable() }),
  result: z.unknown(),
  error: z.string().nullable(),
  attempts: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export function toJobView(row: JobRow): z.infer<typeof jobView> {
  const total = row.progress_total === null ? null : Number(row.progress_total);
  const done = Number(row.progress_done);
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    progress: { done, total, percent: total ? Math.min(100, Math.round((done / total) * 1000) / 10) : null },
    result: row.result ? JSON.parse(row.result) : null,
    error: row.error,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

const idParams = z.object({ id: z.uuid({ message: 'must be a job id' }) });

const JOB_BATCH = 200;

export async function jobRoutes(app: App, ctx: AppContext): Promise<void> {
  app.get(
    '/api/jobs',
    {
      preValidation: requirePermission(ctx, 'contacts.read'),
      schema: {
        tags: ['jobs'],
        summary: 'Background jobs of this institution, newest first (those of kinds the caller may start)',
        querystring: z.object({ kind: z.string().max(100).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ items: z.array(jobView) }) },
      },
    },
    async (request) => {
      const held = requireAuth(request).permissions;
      const { kind, limit } = request.query;
      // Which jobs a caller may see depends on each job's kind (and a bulk job's action), so the
      // page is filled batch by batch, newest first, until it holds `limit` of them.
      const items: JobRow[] = [];
      let before: { created_at: string; id: string } | null = null;
      for (;;) {
        let q = ctx.db.selectFrom('jobs').selectAll().where('institution_id', '=', tenantOf(request));
        if (kind) q = q.where('kind', '=', kind);
        if (before) {
          const { created_at, id } = before;
          q = q.where((eb) => eb.or([eb('created_at', '<', created_at), eb.and([eb('created_at', '=', created_at), eb('id', '<', id)])]));
        }
        const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(JOB_BATCH).execute();
        items.push(...rows.filter((row) => mayHandleJob(held, row)).slice(0, limit - items.length));
        if (items.length === limit || rows.length < JOB_BATCH) break;
        before = rows[rows.length - 1];
      }
      return { items: items.map(toJobView) };
    },
  );
  app.get(
    '/api/jobs/:id',
    {
      preValidation: requirePermission(ctx, 'contacts.read'),
      schema: { tags: ['jobs'], summary: 'A job with its progress', params: idParams, response: { 200: jobView } },
    },
    async (request) => {
      const row = await getJob(ctx.db, tenantOf(request), request.params.id);
      if (!row) throw notFound('Job');
      refuseUnlessMayHandle(request.auth!.permissions, row);
      return toJobView(row);
    },
  );
  app.post(
    '/api/jobs/:id/cancel',
    {
      preValidation: requirePermission(ctx, 'contacts.read'),
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a queued or running job (work already committed stays)',
        description: 'Allowed to whoever may start that kind of job: imports.run for an import, retention.manage for a retention run, contacts.expunge for a bulk expunge, and so on.',
        params: idParams,
        response: { 200: jobView },
      },
    },
    async (request) => {
      const found = await getJob(ctx.db, tenantOf(request), request.params.id);
      if (!found) throw notFound('Job');
      refuseUnlessMayHandle(request.auth!.permissions, found);
      const row = await cancelJob(ctx, tenantOf(request), request.params.id);
      if (!row) throw notFound('Job');
      return toJobView(row);
    },
  );
}

function refuseUnlessMayHandle(held: ReadonlySet<Permission>, row: JobRow): void {
  if (!mayHandleJob(held, row)) throw forbidden(`Your role does not allow this action on a ${row.kind} job (needs one of ${jobPermissions(row.kind, row.payload).join(', ')}).`);
}
