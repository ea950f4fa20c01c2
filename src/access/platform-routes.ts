import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { forbidden } from '../http/problem.ts';
import { requireAuth } from './auth.ts';

const tenantSummary = z.object({ id: z.string(), name: z.string(), slug: z.string(), createdAt: z.string() });

export async function platformRoutes(app: App, ctx: AppContext): Promise<void> {
  app.get(
    '/api/platform/institutions',
    {
      preValidation: async (request) => {
        if (!requireAuth(request).user.platformRole) throw forbidden('Only platform support and customer-success staff can list institutions.');
      },
      schema: {
        tags: ['access'],
        summary: 'Every tenant, for platform staff; act in one by sending its id as X-Lethe-Institution',
        response: { 200: z.object({ items: z.array(tenantSummary) }) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const rows = await ctx.db.selectFrom('institutions').select(['id', 'name', 'slug', 'created_at']).orderBy('slug').execute();
      await recordAudit(ctx, ctx.db, {
        institutionId: null,
        actor: auth.actor,
        action: 'platform.list_institutions',
        target: { type: 'institution', id: null },
        meta: { platformRole: auth.user.platformRole, count: rows.length },
      });
      return { items: rows.map((r) => ({ id: r.id, name: r.name, slug: r.slug, createdAt: r.created_at })) };
    },
  );
}
