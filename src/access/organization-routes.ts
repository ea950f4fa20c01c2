import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { requireAnyPermission, requireAuth, requirePermission, tenantOf } from './auth.ts';
import {
  createOrganization,
  createOrganizationSchema,
  describeInstitution,
  getOrganization,
  institutionView,
  listOrganizations,
  organizationView,
  updateOrganization,
  updateOrganizationSchema,
} from './organizations.ts';
import { idParams } from './route-schemas.ts';

export async function organizationRoutes(app: App, ctx: AppContext): Promise<void> {
  const canManage = requirePermission(ctx, 'organizations.manage');
  // Staff read organizations to file contacts under them; admins to assign users.
  const canRead = requireAnyPermission(ctx, 'contacts.read', 'organizations.manage', 'users.manage');
  const tags = ['access'];

  app.get(
    '/api/institution',
    { preValidation: requirePermission(ctx), schema: { tags, summary: 'Your institution with its organizations', response: { 200: institutionView } } },
    async (request) => describeInstitution(ctx.db, tenantOf(request)),
  );

  app.get(
    '/api/organizations',
    { preValidation: canRead, schema: { tags, summary: "The institution's organizations", response: { 200: z.object({ items: z.array(organizationView) }) } } },
    async (request) => ({ items: await listOrganizations(ctx.db, tenantOf(request)) }),
  );

  app.get(
    '/api/organizations/:id',
    { preValidation: canRead, schema: { tags, summary: 'One organization', params: idParams, response: { 200: organizationView } } },
    async (request) => getOrganization(ctx.db, tenantOf(request), request.params.id),
  );

  app.post(
    '/api/organizations',
    {
      preValidation: canManage,
      schema: { tags, summary: 'Create an organization', body: createOrganizationSchema, response: { 201: organizationView } },
    },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const org = await createOrganization(ctx, tenantOf(request), request.body, requireAuth(request).actor);
        return { status: 201, body: org, resourceId: org.id };
      }),
  );

  app.patch(
    '/api/organizations/:id',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: "Change an organization's name, tier, email domains, CSM or contract end",
        params: idParams,
        body: updateOrganizationSchema,
        response: { 200: organizationView },
      },
    },
    async (request) => updateOrganization(ctx, tenantOf(request), request.params.id, request.body, requireAuth(request).actor),
  );
}
