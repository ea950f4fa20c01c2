import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { requirePermission, tenantOf } from '../access/auth.ts';
import { listAudit } from './audit-log.ts';

const auditEntry = z.object({
  seq: z.number(),
  occurredAt: z.string(),
  institutionId: z.string().nullable(),
  actorUserId: z.string().nullable(),
  actorLabel: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  shredded: z.boolean(),
  meta: z.record(z.string(), z.unknown()).nullable(),
});

export async function auditRoutes(app: App, ctx: AppContext): Promise<void> {
  app.get(
    '/api/audit',
    {
      preValidation: requirePermission(ctx, 'audit.read'),
      schema: {
        tags: ['audit'],
        summary: 'Search the audit log (newest first)',
        querystring: z.object({
          action: z.string().max(100).optional().describe('exact action, or a prefix ending in ".*" such as "contact.*"'),
          targetId: z.string().max(100).optional(),
          actorUserId: z.string().max(100).optional(),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
          before: z.coerce.number().int().positive().optional().describe('cursor: the seq of the last entry of the previous page'),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
        response: { 200: z.object({ items: z.array(auditEntry), nextCursor: z.number().nullable() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const items = await listAudit(ctx, {
        institutionId: tenantOf(request),
        action: q.action,
        targetId: q.targetId,
        actorUserId: q.actorUserId,
        from: q.from ? new Date(q.from).toISOString() : undefined,
        to: q.to ? new Date(q.to).toISOString() : undefined,
        beforeSeq: q.before,
        limit: q.limit,
      });
      return { items, nextCursor: items.length === q.limit ? items[items.length - 1].seq : null };
    },
  );
}
