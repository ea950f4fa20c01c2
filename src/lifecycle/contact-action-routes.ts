import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { requirePermission, tenantOf } from '../access/auth.ts';
import { idParams } from '../access/route-schemas.ts';
import { callerOf } from '../contacts/caller.ts';
import { actionOptions, type Acting, type ActionInput, type ActionName } from './actions.ts';
import { actionResultView, getLifecycle, lifecycleView, runContactAction } from './contact-actions.ts';
import { actionPermission } from './rules.ts';

const summaries: Record<Exclude<ActionName, 'update'>, string> = {
  disable: 'Soft-delete: disable the contact (hidden from the directory, workflows and email; restorable)',
  restore: 'Restore a disabled contact',
  archive: 'Archive: move to the "Inactive" employer, set "Do not email", restrict visibility to staff (each optional)',
  unarchive: 'Revive an archived contact: put back what archiving changed (or move to the employer given)',
  reject: 'Reject: the contact leaves the directory and its data is frozen',
  approve: 'Approve a pending or rejected contact, unchanged',
  delete: 'Delete the contact with every record attached to it (meetings, notes, tasks, applications, events, consent…)',
  expunge: 'Expunge: erase the contact everywhere, shred its audit entries, email a confirmation first',
};

export function actingOf(request: FastifyRequest): Acting {
  const caller = callerOf(request);
  return { viewer: caller.viewer, actor: caller.actor, via: 'staff' };
}

export async function contactActionRoutes(app: App, ctx: AppContext): Promise<void> {
  const tags = ['lifecycle'];

  for (const action of Object.keys(summaries) as (keyof typeof summaries)[]) {
    app.post(
      `/api/contacts/:id/${action}`,
      {
        preValidation: requirePermission(ctx, 'contacts.read', actionPermission[action]),
        schema: {
          tags,
          summary: summaries[action],
          description: `Needs ${actionPermission[action]}. Repeating it answers outcome "unchanged"; a state that does not allow it answers 409 (or 410 once erased) saying why.`,
          params: idParams,
          body: actionOptions[action].nullish(),
          response: { 200: actionResultView },
        },
      },
      async (request) => {
        const input = { ...(actionOptions[action].parse(request.body ?? {}) as object), action } as ActionInput;
        return runContactAction(ctx, tenantOf(request), actingOf(request), request.params.id, input);
      },
    );
  }

  app.delete(
    '/api/contacts/:id',
    {
      preValidation: requirePermission(ctx, 'contacts.read', 'contacts.delete'),
      schema: {
        tags,
        summary: summaries.delete,
        params: idParams,
        querystring: z.object({ reason: actionOptions.delete.shape.reason }),
        response: { 200: actionResultView },
      },
    },
    async (request) => runContactAction(ctx, tenantOf(request), actingOf(request), request.params.id, { action: 'delete', reason: request.query.reason }),
  );

  app.get(
    '/api/contacts/:id/lifecycle',
    {
      preValidation: requirePermission(ctx, 'contacts.read'),
      schema: { tags, summary: 'Whether the contact is disabled, archived, rejected or marked do-not-email', params: idParams, response: { 200: lifecycleView } },
    },
    async (request) => getLifecycle(ctx.db, tenantOf(request), callerOf(request).viewer, request.params.id),
  );
}
