import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { requireAuth, requirePermission, tenantOf } from './auth.ts';
import { idParams, noContent } from './route-schemas.ts';
import { createRole, createRoleSchema, deleteRole, getRole, listRoles, roleView, updateRole, updateRoleSchema } from './roles.ts';

export async function roleRoutes(app: App, ctx: AppContext): Promise<void> {
  const canManage = requirePermission(ctx, 'roles.manage');
  const tags = ['access'];

  app.get(
    '/api/roles',
    {
      preValidation: canManage,
      schema: { tags, summary: 'Built-in and custom roles with their permissions', response: { 200: z.object({ items: z.array(roleView) }) } },
    },
    async (request) => ({ items: await listRoles(ctx.db, tenantOf(request)) }),
  );

  app.get(
    '/api/roles/:id',
    { preValidation: canManage, schema: { tags, summary: 'One role', params: idParams, response: { 200: roleView } } },
    async (request) => getRole(ctx.db, tenantOf(request), request.params.id),
  );

  app.post(
    '/api/roles',
    { preValidation: canManage, schema: { tags, summary: 'Create a custom role', body: createRoleSchema, response: { 201: roleView } } },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const role = await createRole(ctx, tenantOf(request), request.body, requireAuth(request).actor);
        return { status: 201, body: role, resourceId: role.id };
      }),
  );

  app.patch(
    '/api/roles/:id',
    {
      preValidation: canManage,
      schema: { tags, summary: "Rename a custom role or change its permissions", params: idParams, body: updateRoleSchema, response: { 200: roleView } },
    },
    async (request) => updateRole(ctx, tenantOf(request), request.params.id, request.body, requireAuth(request).actor),
  );

  app.delete(
    '/api/roles/:id',
    { preValidation: canManage, schema: { tags, summary: 'Delete a custom role no user holds', params: idParams, response: noContent } },
    async (request, reply) => {
      await deleteRole(ctx, tenantOf(request), request.params.id, requireAuth(request).actor);
      return reply.code(204).send();
    },
  );
}
