import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { requirePermission, tenantOf } from '../access/auth.ts';
import { idParams, noContent } from '../access/route-schemas.ts';
import { callerOf } from './caller.ts';
import { cursorPage } from './contact-schemas.ts';
import {
  createRelated,
  createSchemaOf,
  deleteRelated,
  listRelated,
  relatedKinds,
  updateRelated,
  updateSchemaOf,
  viewSchemaOf,
} from './related-records.ts';

const recordParams = idParams.extend({ recordId: z.string().min(1).max(100) });

/** /api/contacts/:id/notes|meetings|tasks: the same four routes for each kind of record. */
export async function relatedRoutes(app: App, ctx: AppContext): Promise<void> {
  const canRead = requirePermission(ctx, 'contacts.read');
  const canWrite = requirePermission(ctx, 'contacts.read', 'contacts.write');
  for (const kind of relatedKinds) {
    const base = `/api/contacts/:id/${kind.path}`;
    const view = viewSchemaOf(kind);
    const tags = ['contacts'];
    const noun = kind.entity;

    app.get(
      base,
      {
        preValidation: canRead,
        schema: {
          tags,
          summary: `A contact's ${kind.path}, newest first`,
          params: idParams,
          querystring: z.object(cursorPage),
          response: { 200: z.object({ items: z.array(view), nextCursor: z.string().nullable() }) },
        },
      },
      async (request) => listRelated(ctx.db, kind, tenantOf(request), callerOf(request).viewer, request.params.id, request.query),
    );

    app.post(
      base,
      { preValidation: canWrite, schema: { tags, summary: `Add a ${noun} to a contact`, params: idParams, body: createSchemaOf(kind), response: { 201: view } } },
      async (request, reply) =>
        idempotent(ctx, request, reply, async () => {
          const created = await createRelated(ctx, kind, tenantOf(request), callerOf(request), request.params.id, request.body as Record<string, unknown>);
          return { status: 201, body: created, resourceId: created.id };
        }),
    );

    app.patch(
      `${base}/:recordId`,
      {
        preValidation: canWrite,
        schema: {
          tags,
          summary: kind.entity === 'task' ? 'Change a task (send done: true to complete it)' : `Change a ${noun}`,
          params: recordParams,
          body: updateSchemaOf(kind),
          response: { 200: view },
        },
      },
      async (request) =>
        updateRelated(ctx, kind, tenantOf(request), callerOf(request), request.params.id, request.params.recordId, request.body as Record<string, unknown>),
    );

    app.delete(
      `${base}/:recordId`,
      { preValidation: canWrite, schema: { tags, summary: `Delete a ${noun}`, params: recordParams, response: noContent } },
      async (request, reply) => {
        await deleteRelated(ctx, kind, tenantOf(request), callerOf(request), request.params.id, request.params.recordId);
        return reply.code(204).send();
      },
    );
  }
}
