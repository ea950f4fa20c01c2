import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { requirePermission, tenantOf } from '../access/auth.ts';
import { idParams } from '../access/route-schemas.ts';
import { listActivity } from '../activity/events.ts';
import { callerOf } from './caller.ts';
import {
  consentBody,
  contactProfileView,
  contactSummaryView,
  createContactBody,
  directoryQuerystring,
  patchContactBody,
} from './contact-schemas.ts';
import { findVisibleContact, getContactProfile, type ContactProfile } from './contact-profile.ts';
import { etagOf, updateContact } from './contacts.ts';
import { createContactChecked } from '../intake/staff-create.ts';
import { attributeFiltersFromQuery } from './attribute-filters.ts';
import { searchDirectory } from './directory.ts';

const activityView = z.object({
  seq: z.number(),
  type: z.string(),
  occurredAt: z.string(),
  organizationId: z.string().nullable(),
  actorUserId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
});

function ifMatchOf(request: FastifyRequest): string | undefined {
  const header = request.headers['if-match'];
  return Array.isArray(header) ? header.join(',') : header;
}

function withEtag(reply: FastifyReply, profile: ContactProfile): ContactProfile {
  reply.header('etag', etagOf(profile.updatedAt));
  return profile;
}

export async function contactRoutes(app: App, ctx: AppContext): Promise<void> {
  const canRead = requirePermission(ctx, 'contacts.read');
  const canWrite = requirePermission(ctx, 'contacts.read', 'contacts.write');
  const tags = ['contacts'];

  app.get(
    '/api/contacts',
    {
      preValidation: canRead,
      schema: {
        tags,
        summary: 'The contact directory: filter, search and page through contacts you may see',
        description:
          'Filters combine (AND). Custom attributes: `attr.<key>=value` (repeat for any of several values), `attr.<key>.gte=` / `.lte=` for number and date attributes. Rejected contacts are left out unless `approvalStatus=rejected`; disabled (soft-deleted) ones unless `lifecycle=disabled` or `any`.',
        querystring: directoryQuerystring,
        response: { 200: z.object({ items: z.array(contactSummaryView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const query = request.query;
      return searchDirectory(ctx, tenantOf(request), callerOf(request).viewer, {
        email: query.email,
        lastName: query.lastName,
        firstName: query.firstName,
        q: query.q,
        organizationId: query.organizationId,
        employerId: query.employerId,
        ownerUserId: query.ownerUserId,
        visibility: query.visibility,
        approvalStatus: query.approvalStatus,
        lifecycle: query.lifecycle,
        source: query.source,
        optInStatus: query.optInStatus,
        createdFrom: query.createdFrom,
        createdTo: query.createdTo,
        attributes: attributeFiltersFromQuery(query),
        sort: query.sort,
        order: query.order,
        after: query.after,
        limit: query.limit,
      });
    },
  );

  app.post(
    '/api/contacts',
    {
      preValidation: canWrite,
      schema: {
        tags,
        summary: 'Create a contact',
        description:
          "The institution's duplicate rule (GET /api/intake/settings) is checked first: when existing contacts match, the answer is 409 with `duplicates` and nothing is created, " +
          'unless `onDuplicate` says what to do: `"create_anyway"` (201), or `{"mergeInto": id, "policy": "fill_empty" | "overwrite"}` to add the details to that contact (200). ' +
          'Send an Idempotency-Key header to make retries safe: a replay returns the first response and creates nothing.',
        body: createContactBody,
        response: { 201: contactProfileView, 200: contactProfileView },
      },
    },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const { onDuplicate, ...input } = request.body;
        const result = await createContactChecked(ctx, tenantOf(request), callerOf(request), input, onDuplicate);
        return { status: result.outcome === 'created' ? 201 : 200, body: withEtag(reply, result.profile), resourceId: result.profile.id };
      }),
  );

  app.get(
    '/api/contacts/:id',
    { preValidation: canRead, schema: { tags, summary: "A contact's full profile", params: idParams, response: { 200: contactProfileView } } },
    async (request, reply) => withEtag(reply, await getContactProfile(ctx.db, tenantOf(request), callerOf(request).viewer, request.params.id)),
  );

  app.patch(
    '/api/contacts/:id',
    {
      preValidation: canWrite,
      schema: {
        tags,
        summary: 'Change some of a contact’s fields',
        description: 'Only the fields sent change. `attributes: {"key": null}` removes a value. Send `If-Match` with the ETag (or updatedAt) you read to refuse the change (412) if someone else changed the contact since.',
        params: idParams,
        body: patchContactBody,
        response: { 200: contactProfileView },
      },
    },
    async (request, reply) =>
      withEtag(reply, await updateContact(ctx, tenantOf(request), callerOf(request), request.params.id, request.body, { ifMatch: ifMatchOf(request) })),
  );

  app.put(
    '/api/contacts/:id/consent',
    {
      preValidation: canWrite,
      schema: {
        tags,
        summary: "Set a contact's opt-in status and per-purpose authorizations",
        params: idParams,
        body: consentBody,
        response: { 200: contactProfileView },
      },
    },
    async (request, reply) =>
      withEtag(
        reply,
        await updateContact(ctx, tenantOf(request), callerOf(request), request.params.id, request.body, { ifMatch: ifMatchOf(request), action: 'contact.consent' }),
      ),
  );

  app.get(
    '/api/contacts/:id/activity',
    {
      preValidation: canRead,
      schema: {
        tags,
        summary: "A contact's activity timeline, newest first",
        params: idParams,
        querystring: z.object({
          before: z.coerce.number().int().positive().optional().describe('cursor: nextCursor of the previous page'),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          types: z.string().max(500).optional().describe('comma-separated event types'),
        }),
        response: { 200: z.object({ items: z.array(activityView), nextCursor: z.number().nullable() }) },
      },
    },
    async (request) => {
      const institutionId = tenantOf(request);
      const contact = await findVisibleContact(ctx.db, institutionId, callerOf(request).viewer, request.params.id);
      const { before, limit, types } = request.query;
      const items = await listActivity(ctx.db, institutionId, contact.id, {
        beforeSeq: before,
        limit: limit + 1,
        types: types?.split(',').map((t) => t.trim()).filter(Boolean),
      });
      const page = items.slice(0, limit);
      return { items: page, nextCursor: items.length > limit ? page[page.length - 1].seq : null };
    },
  );
}
