import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { attributeTypes } from '../db/schema.ts';
import { idempotent } from '../http/idempotency.ts';
import { requireAuth, requirePermission, tenantOf } from '../access/auth.ts';
import { idParams, noContent } from '../access/route-schemas.ts';
import { createDefinition, deleteDefinition, getDefinition, listDefinitions, updateDefinition } from './attributes.ts';

const definitionView = z.object({
  id: z.string(),
  key: z.string(),
  label: z.string(),
  type: z.enum(attributeTypes),
  options: z.array(z.string()).nullable(),
  createdAt: z.string(),
});

const options = z.array(z.string().max(200)).max(500).nullable().optional().describe('the allowed values of a choice attribute');

export async function attributeRoutes(app: App, ctx: AppContext): Promise<void> {
  const canRead = requirePermission(ctx, 'contacts.read');
  const canManage = requirePermission(ctx, 'attributes.manage');
  const tags = ['attributes'];

  app.get(
    '/api/attributes',
    { preValidation: canRead, schema: { tags, summary: 'Custom contact attributes defined in the institution', response: { 200: z.object({ items: z.array(definitionView) }) } } },
    async (request) => ({ items: await listDefinitions(ctx.db, tenantOf(request)) }),
  );

  app.get(
    '/api/attributes/:id',
    { preValidation: canRead, schema: { tags, summary: 'One attribute definition', params: idParams, response: { 200: definitionView } } },
    async (request) => getDefinition(ctx.db, tenantOf(request), request.params.id),
  );

  app.post(
    '/api/attributes',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: 'Define a custom attribute',
        description:
          'Types: text, number, boolean, date (YYYY-MM-DD) and choice (with options). The key names the attribute in contact payloads (`attributes.<key>`) and directory filters (`attr.<key>=`).',
        body: z.strictObject({
          key: z.string().max(64),
          label: z.string().trim().max(200).optional(),
          type: z.enum(attributeTypes),
          options,
        }),
        response: { 201: definitionView },
      },
    },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const created = await createDefinition(ctx, tenantOf(request), request.body, requireAuth(request).actor);
        return { status: 201, body: created, resourceId: created.id };
      }),
  );

  app.patch(
    '/api/attributes/:id',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: "Change an attribute's label, type or options",
        description: 'The type cannot change while contacts hold values, nor can an option be removed while contacts hold it (409).',
        params: idParams,
        body: z.strictObject({ label: z.string().trim().max(200).optional(), type: z.enum(attributeTypes).optional(), options }),
        response: { 200: definitionView },
      },
    },
    async (request) => updateDefinition(ctx, tenantOf(request), request.params.id, request.body, requireAuth(request).actor),
  );

  app.delete(
    '/api/attributes/:id',
    {
      preValidation: canManage,
      schema: { tags, summary: "Delete an attribute and every contact's value of it", params: idParams, response: noContent },
    },
    async (request, reply) => {
      await deleteDefinition(ctx, tenantOf(request), request.params.id, requireAuth(request).actor);
      return reply.code(204).send();
    },
  );
}
