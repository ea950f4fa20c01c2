import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { requireAuth, requirePermission, tenantOf } from './auth.ts';
import { idParams, noContent, pageQuery, userView } from './route-schemas.ts';
import { createUser, createUserSchema, deleteUser, getUser, listUsers, setSiteAccess, updateUser, updateUserSchema } from './users.ts';

export async function userRoutes(app: App, ctx: AppContext): Promise<void> {
  const canManage = requirePermission(ctx, 'users.manage');
  const tags = ['access'];

  app.get(
    '/api/users',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: "List the institution's users (ordered by id; cursor pagination)",
        querystring: z.object({ ...pageQuery, organizationId: z.string().max(100).optional(), roleId: z.string().max(100).optional() }),
        response: { 200: z.object({ items: z.array(userView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => listUsers(ctx.db, tenantOf(request), request.query),
  );

  app.get(
    '/api/users/:id',
    { preValidation: canManage, schema: { tags, summary: 'One user', params: idParams, response: { 200: userView } } },
    async (request) => getUser(ctx.db, tenantOf(request), request.params.id),
  );

  app.post(
    '/api/users',
    {
      preValidation: canManage,
      schema: { tags, summary: 'Create a staff or employer user', body: createUserSchema, response: { 201: userView } },
    },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const user = await createUser(ctx, tenantOf(request), request.body, requireAuth(request).actor);
        return { status: 201, body: user, resourceId: user.id };
      }),
  );

  app.patch(
    '/api/users/:id',
    {
      preValidation: canManage,
      schema: { tags, summary: "Change a user's name, role or organization", params: idParams, body: updateUserSchema, response: { 200: userView } },
    },
    async (request) => updateUser(ctx, tenantOf(request), request.params.id, request.body, requireAuth(request).actor),
  );

  app.post(
    '/api/users/:id/access',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: '"User can access this site": off refuses sign-in and ends their sessions; on restores it',
        params: idParams,
        body: z.object({ enabled: z.boolean() }),
        response: { 200: userView },
      },
    },
    async (request) => setSiteAccess(ctx, tenantOf(request), request.params.id, request.body.enabled, requireAuth(request).actor),
  );

  app.delete(
    '/api/users/:id',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: 'Delete a user with their sessions, API tokens and audit-log PII (irreversible)',
        params: idParams,
        response: noContent,
      },
    },
    async (request, reply) => {
      await deleteUser(ctx, tenantOf(request), request.params.id, requireAuth(request).actor);
      return reply.code(204).send();
    },
  );
}
