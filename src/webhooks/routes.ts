import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { requireAuth, requirePermission, tenantOf } from '../access/auth.ts';
import { idParams, noContent } from '../access/route-schemas.ts';
import { webhookDeliveryStatuses } from '../db/schema.ts';
import {
  createSubscription,
  createSubscriptionBody,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  pingSubscription,
  subscriptionView,
  updateSubscription,
  updateSubscriptionBody,
} from './subscriptions.ts';

const deliveryView = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  status: z.enum(webhookDeliveryStatuses),
  attempts: z.number(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
  payload: z.unknown(),
});

export async function webhookRoutes(app: App, ctx: AppContext): Promise<void> {
  const canManage = requirePermission(ctx, 'webhooks.manage');
  const tags = ['webhooks'];

  app.get(
    '/api/webhooks',
    { preValidation: canManage, schema: { tags, summary: 'Erasure webhook subscriptions', response: { 200: z.object({ items: z.array(subscriptionView) }) } } },
    async (request) => ({ items: await listSubscriptions(ctx.db, tenantOf(request)) }),
  );

  app.post(
    '/api/webhooks',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: 'Subscribe a URL to erasure events (contact.deleted, contact.expunged, contact.restored, contact.anonymised)',
        description:
          'Each delivery is a JSON POST carrying ids only, signed in `X-Lethe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the `secret` returned here once. Non-2xx answers are retried with exponential backoff (10 attempts).',
        body: createSubscriptionBody,
        response: { 201: subscriptionView.extend({ secret: z.string().describe('shown only now; store it to verify signatures') }) },
      },
    },
    async (request, reply) => {
      const created = await createSubscription(ctx, tenantOf(request), request.body, requireAuth(request).actor);
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/webhooks/:id',
    { preValidation: canManage, schema: { tags, summary: 'One subscription', params: idParams, response: { 200: subscriptionView } } },
    async (request) => getSubscription(ctx.db, tenantOf(request), request.params.id),
  );

  app.patch(
    '/api/webhooks/:id',
    {
      preValidation: canManage,
      schema: { tags, summary: 'Change the URL or events, or pause/resume a subscription', params: idParams, body: updateSubscriptionBody, response: { 200: subscriptionView } },
    },
    async (request) => updateSubscription(ctx, tenantOf(request), request.params.id, request.body, requireAuth(request).actor),
  );

  app.delete(
    '/api/webhooks/:id',
    { preValidation: canManage, schema: { tags, summary: 'Remove a subscription and its delivery log', params: idParams, response: noContent } },
    async (request, reply) => {
      await deleteSubscription(ctx, tenantOf(request), request.params.id, requireAuth(request).actor);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/webhooks/:id/ping',
    {
      preValidation: canManage,
      schema: { tags, summary: 'Queue a signed "ping" delivery to check the endpoint', params: idParams, response: { 202: z.object({ deliveryId: z.string() }) } },
    },
    async (request, reply) => reply.code(202).send(await pingSubscription(ctx, tenantOf(request), request.params.id)),
  );

  app.get(
    '/api/webhooks/:id/deliveries',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: 'The delivery log of a subscription, newest first',
        params: idParams,
        querystring: z.object({
          status: z.enum(webhookDeliveryStatuses).optional(),
          before: z.string().max(100).optional().describe('cursor: nextCursor of the previous page'),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: z.object({ items: z.array(deliveryView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const institutionId = tenantOf(request);
      await getSubscription(ctx.db, institutionId, request.params.id);
      const { status, before, limit } = request.query;
      let q = ctx.db.selectFrom('webhook_deliveries').selectAll().where('institution_id', '=', institutionId).where('subscription_id', '=', request.params.id);
      if (status) q = q.where('status', '=', status);
      if (before) q = q.where('id', '<', before);
      const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => ({
          id: r.id,
          eventId: r.event_id,
          eventType: r.event_type,
          status: r.status,
          attempts: r.attempts,
          lastStatusCode: r.last_status_code,
          lastError: r.last_error,
          nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
          createdAt: r.created_at,
          deliveredAt: r.delivered_at,
          payload: JSON.parse(r.payload),
        })),
        nextCursor: rows.length > limit ? page[page.length - 1].id : null,
      };
    },
  );
}
