import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import type { App } from '../../http/app.ts';
import { requireAuth, requirePermission, tenantOf } from '../../access/auth.ts';
import type { Permission } from '../../access/permissions.ts';
import { forbidden } from '../../http/problem.ts';
import { actionInputSchema, type ActionInput } from '../actions.ts';
import { actingOf } from '../contact-action-routes.ts';
import { actionPermission } from '../rules.ts';
import { previewBulk, startBulkJob } from './bulk-job.ts';
import { bulkFilterSchema } from './bulk-select.ts';

const needs = (input: ActionInput): Permission => (input.action === 'update' ? 'contacts.write' : actionPermission[input.action]);

function checkActionPermission(request: FastifyRequest, input: ActionInput): void {
  const permission = needs(input);
  if (!requireAuth(request).permissions.has(permission)) throw forbidden(`Your role does not allow this bulk action (needs ${permission}).`);
}

/**
 * Bulk update of a filtered set (seed 001: "can be done via a Bulk Update"): preview how many
 * contacts a filter takes, then queue the action as a job (GET /api/jobs/:id shows its progress
 * and, when done, its report).
 */
export async function bulkRoutes(app: App, ctx: AppContext): Promise<void> {
  const tags = ['lifecycle'];
  const body = z.strictObject({
    filter: bulkFilterSchema.describe('the directory filters (rejected and disabled contacts are left out unless asked for), or ids'),
    action: actionInputSchema.describe('update (employerId, visibility, attributes), archive, unarchive, reject, approve, disable, restore, delete or expunge, with its options'),
  });

  app.post(
    '/api/contacts/bulk/preview',
    {
      preValidation: requirePermission(ctx, 'contacts.read'),
      schema: { tags, summary: 'How many contacts a bulk action would take now', body, response: { 200: z.object({ count: z.number(), action: z.string() }) } },
    },
    async (request) => {
      checkActionPermission(request, request.body.action);
      return { count: await previewBulk(ctx, tenantOf(request), actingOf(request).viewer, request.body.filter), action: request.body.action.action };
    },
  );

  app.post(
    '/api/contacts/bulk',
    {
      preValidation: requirePermission(ctx, 'contacts.read'),
      schema: {
        tags,
        summary: 'Run a bulk action on a filtered set, as a job with progress, one audit entry per contact and a report',
        description: 'Send `expectedCount` (the preview) to refuse with 409 if the set changed since. The job answers at GET /api/jobs/:id.',
        body: body.extend({ expectedCount: z.number().int().min(0).optional() }),
        response: { 202: z.object({ jobId: z.string(), count: z.number() }) },
      },
    },
    async (request, reply) => {
      checkActionPermission(request, request.body.action);
      const started = await startBulkJob(ctx, tenantOf(request), { ...actingOf(request), via: 'bulk' }, request.body.filter, request.body.action, {
        expectedCount: request.body.expectedCount,
      });
      return reply.code(202).send(started);
    },
  );
}
