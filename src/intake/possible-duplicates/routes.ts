import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { App } from '../../http/app.ts';
import { requireAuth, requirePermission, tenantOf } from '../../access/auth.ts';
import { idParams, noContent } from '../../access/route-schemas.ts';
import { callerOf } from '../../contacts/caller.ts';
import { enqueueJob, getJob } from '../../jobs/queue.ts';
import { jobView, toJobView } from '../../jobs/routes.ts';
import { possibleDuplicateStatuses } from '../../db/schema.ts';
import { dismissPossibleDuplicate, listPossibleDuplicates, POSSIBLE_DUPLICATES_SCAN_JOB } from './queue.ts';

const contactView = z.object({
  id: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  email: z.string().nullable(),
  mobilePhone: z.string().nullable(),
  employerId: z.string().nullable(),
  organizationId: z.string().nullable(),
  source: z.string(),
  createdAt: z.string(),
});

const pairView = z.object({
  id: z.string(),
  score: z.number().describe('0–1: how likely the two are one person'),
  reasons: z.array(z.object({ code: z.string(), text: z.string() })),
  status: z.enum(possibleDuplicateStatuses),
  contacts: z.tuple([contactView, contactView]),
  createdAt: z.string(),
  updatedAt: z.string(),
  dismissedAt: z.string().nullable(),
  mergeUrl: z.string(),
});

export async function possibleDuplicateRoutes(app: App, ctx: AppContext): Promise<void> {
  const canManage = requirePermission(ctx, 'contacts.read', 'duplicates.manage');
  const tags = ['duplicates'];

  app.get(
    '/api/possible-duplicates',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: 'Likely duplicates the exact rules miss (same name with a similar phone or email, or at the same employer), best score first',
        querystring: z.object({
          status: z.enum(possibleDuplicateStatuses).default('open'),
          contactId: z.string().max(100).optional().describe('only pairs holding this contact'),
          after: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: z.object({ items: z.array(pairView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => listPossibleDuplicates(ctx.db, tenantOf(request), callerOf(request).viewer, request.query),
  );

  app.post(
    '/api/possible-duplicates/:id/dismiss',
    {
      preValidation: canManage,
      schema: { tags, summary: 'Not the same person: the pair leaves the queue and later scans leave it out', params: idParams, response: noContent },
    },
    async (request, reply) => {
      await dismissPossibleDuplicate(ctx, tenantOf(request), request.params.id, requireAuth(request).actor);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/possible-duplicates/scan',
    {
      preValidation: canManage,
      schema: { tags, summary: 'Scan every contact of the institution for possible duplicates (a job)', response: { 202: jobView } },
    },
    async (request, reply) => {
      const institutionId = tenantOf(request);
      const id = await enqueueJob(ctx.db, ctx.clock.now().toISOString(), {
        institutionId,
        kind: POSSIBLE_DUPLICATES_SCAN_JOB,
        payload: {},
        createdBy: requireAuth(request).user.id,
      });
      reply.code(202).header('location', `/api/jobs/${id}`);
      return toJobView((await getJob(ctx.db, institutionId, id))!);
    },
  );
}
