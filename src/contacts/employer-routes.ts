import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { requireAuth, requirePermission, tenantOf } from '../access/auth.ts';
import { idParams, pageQuery } from '../access/route-schemas.ts';
import { callerOf } from './caller.ts';
import { createEmployer, employerContacts, getEmployer, listEmployers, renameEmployer } from './employers.ts';

const employerView = z.object({ id: z.string(), name: z.string(), createdAt: z.string() });
const employerContactView = z.object({
  id: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  since: z.string().nullable(),
  endedAt: z.string().nullable(),
  currentEmployer: z.object({ id: z.string(), name: z.string() }).nullable().describe('where the contact works now ("Inactive" once archived)'),
});
const nameBody = z.strictObject({ name: z.string().max(200) });

export async function employerRoutes(app: App, ctx: AppContext): Promise<void> {
  const canRead = requirePermission(ctx, 'contacts.read');
  const canManage = requirePermission(ctx, 'employers.manage');
  const tags = ['employers'];

  app.get(
    '/api/employers',
    {
      preValidation: canRead,
      schema: {
        tags,
        summary: 'Employers in name order',
        querystring: z.object({ q: z.string().max(200).optional().describe('name prefix (case and accents ignored)'), ...pageQuery }),
        response: { 200: z.object({ items: z.array(employerView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => listEmployers(ctx.db, tenantOf(request), { prefix: request.query.q, after: request.query.after, limit: request.query.limit }),
  );

  app.post(
    '/api/employers',
    { preValidation: canManage, schema: { tags, summary: 'Add an employer', body: nameBody, response: { 201: employerView } } },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const created = await createEmployer(ctx, tenantOf(request), request.body.name, requireAuth(request).actor);
        return { status: 201, body: created, resourceId: created.id };
      }),
  );

  app.get(
    '/api/employers/:id',
    { preValidation: canRead, schema: { tags, summary: 'One employer', params: idParams, response: { 200: employerView } } },
    async (request) => getEmployer(ctx.db, tenantOf(request), request.params.id),
  );

  app.patch(
    '/api/employers/:id',
    { preValidation: canManage, schema: { tags, summary: 'Rename an employer', params: idParams, body: nameBody, response: { 200: employerView } } },
    async (request) => renameEmployer(ctx, tenantOf(request), request.params.id, request.body.name, requireAuth(request).actor),
  );

  app.get(
    '/api/employers/:id/contacts',
    {
      preValidation: canRead,
      schema: {
        tags,
        summary: "An employer's current or former contacts",
        description: 'A contact moved to another employer stays listed here as a former contact.',
        params: idParams,
        querystring: z.object({ status: z.enum(['current', 'former']).default('current'), ...pageQuery }),
        response: { 200: z.object({ items: z.array(employerContactView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) =>
      employerContacts(ctx.db, tenantOf(request), callerOf(request).viewer, request.params.id, {
        status: request.query.status,
        after: request.query.after,
        limit: request.query.limit,
      }),
  );
}
