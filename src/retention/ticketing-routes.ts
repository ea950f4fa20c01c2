import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { requirePermission, tenantOf } from '../access/auth.ts';
import { notFound } from '../http/problem.ts';
import { recencyReasons } from './recency-rules.ts';
import { readRecency } from './recency-store.ts';
import {
  addToWaitlist,
  confirmOption,
  confirmOptionBody,
  getOrder,
  optionBody,
  optionView,
  orderBody,
  orderView,
  paymentBody,
  recordOption,
  recordOrder,
  recordPayment,
  waitlistBody,
  waitlistView,
} from './ticketing.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });

/** The ticketing feed (a ticketing system writes with an API token holding contacts.write) and each contact's recency. */
export async function ticketingRoutes(app: App, ctx: AppContext): Promise<void> {
  const tags = ['retention'];
  const canWrite = requirePermission(ctx, 'contacts.read', 'contacts.write');
  const canRead = requirePermission(ctx, 'contacts.read');

  app.post(
    '/api/ticketing/orders',
    {
      preValidation: canWrite,
      schema: {
        tags,
        summary: 'Record an order (reservation or sale) with its lines, contacts and beneficiaries',
        description: 'Moves the recency of its purchase and cultural contacts: dated products at their validity date, undated ones at the order date. Idempotent on externalRef (200 with the stored order).',
        body: orderBody,
        response: { 201: orderView, 200: orderView },
      },
    },
    async (request, reply) => {
      const { created, order } = await recordOrder(ctx, tenantOf(request), request.body);
      return reply.code(created ? 201 : 200).send(order);
    },
  );
  app.get('/api/ticketing/orders/:id', { preValidation: canRead, schema: { tags, summary: 'An order', params: idParams, response: { 200: orderView } } }, async (request) => {
    const order = await getOrder(ctx.db, tenantOf(request), request.params.id);
    if (!order) throw notFound('Order');
    return order;
  });
  app.post(
    '/api/ticketing/orders/:id/payments',
    { preValidation: canWrite, schema: { tags, summary: "Record a payment (it does not move anyone's recency)", params: idParams, body: paymentBody, response: { 201: orderView } } },
    async (request, reply) => reply.code(201).send(await recordPayment(ctx, tenantOf(request), request.params.id, request.body)),
  );
  app.post(
    '/api/ticketing/options',
    { preValidation: canWrite, schema: { tags, summary: 'Record an option acquired (and confirmed, when it is)', body: optionBody, response: { 201: optionView, 200: optionView } } },
    async (request, reply) => {
      const { created, option } = await recordOption(ctx, tenantOf(request), request.body);
      return reply.code(created ? 201 : 200).send(option);
    },
  );
  app.post(
    '/api/ticketing/options/:id/confirm',
    { preValidation: canWrite, schema: { tags, summary: 'Confirm an option', params: idParams, body: confirmOptionBody, response: { 200: optionView } } },
    async (request) => confirmOption(ctx, tenantOf(request), request.params.id, request.body.confirmedAt),
  );
  app.post(
    '/api/ticketing/waitlist',
    { preValidation: canWrite, schema: { tags, summary: 'Add a contact to a waiting list', body: waitlistBody, response: { 201: waitlistView } } },
    async (request, reply) => reply.code(201).send(await addToWaitlist(ctx, tenantOf(request), request.body)),
  );
  app.get(
    '/api/contacts/:id/recency',
    {
      preValidation: canRead,
      schema: {
        tags,
        summary: "The contact's recency (seed 004) and the event that set it",
        params: idParams,
        response: { 200: z.object({ contactId: z.string(), recency: z.string(), reason: z.enum(recencyReasons), sourceId: z.string().nullable() }) },
      },
    },
    async (request) => {
      const r = await readRecency(ctx.db, tenantOf(request), request.params.id);
      if (!r) throw notFound('Contact');
      return { contactId: request.params.id, recency: r.at, reason: r.reason, sourceId: r.sourceId };
    },
  );
}
