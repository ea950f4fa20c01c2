import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { requirePermission, tenantOf } from '../access/auth.ts';
import { idParams, noContent, pageQuery } from '../access/route-schemas.ts';
import { callerOf } from '../contacts/caller.ts';
import { sequenceStatuses } from '../db/schema.ts';
import {
  createSequence,
  createSequenceBody,
  deleteSequence,
  enrollBody,
  enrollContacts,
  enrollmentView,
  getSequence,
  listEnrollments,
  listSequences,
  replaceSteps,
  replaceStepsBody,
  sequenceView,
  setStepStatus,
  stepStatusBody,
  stopEnrollment,
  updateSequence,
  updateSequenceBody,
} from './sequences.ts';

const tags = ['sequences'];
const enrollmentParams = idParams.extend({ enrollmentId: z.string().min(1).max(100) });

/** /api/sequences: multi-step outreach emails, their enrolled contacts and each step's status. */
export async function sequenceRoutes(app: App, ctx: AppContext): Promise<void> {
  const canRead = requirePermission(ctx, 'contacts.read');
  const canWrite = requirePermission(ctx, 'contacts.read', 'contacts.write');

  app.get(
    '/api/sequences',
    {
      preValidation: canRead,
      schema: {
        tags,
        summary: 'Sequences of this institution, newest first',
        querystring: z.object({ status: z.enum(sequenceStatuses).optional(), ownerUserId: z.string().max(100).optional(), ...pageQuery }),
        response: { 200: z.object({ items: z.array(sequenceView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => listSequences(ctx, tenantOf(request), callerOf(request).viewer, request.query),
  );

  app.post(
    '/api/sequences',
    { preValidation: canWrite, schema: { tags, summary: 'Create a sequence with its steps', body: createSequenceBody, response: { 201: sequenceView } } },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const view = await createSequence(ctx, tenantOf(request), callerOf(request), request.body);
        return { status: 201, body: view, resourceId: view.id };
      }),
  );

  app.get(
    '/api/sequences/:id',
    { preValidation: canRead, schema: { tags, summary: 'A sequence with its steps', params: idParams, response: { 200: sequenceView } } },
    async (request) => getSequence(ctx, tenantOf(request), callerOf(request).viewer, request.params.id),
  );

  app.patch(
    '/api/sequences/:id',
    { preValidation: canWrite, schema: { tags, summary: 'Rename a sequence, change its status or owner', params: idParams, body: updateSequenceBody, response: { 200: sequenceView } } },
    async (request) => updateSequence(ctx, tenantOf(request), callerOf(request), request.params.id, request.body),
  );

  app.put(
    '/api/sequences/:id/steps',
    {
      preValidation: canWrite,
      schema: { tags, summary: 'Replace the steps (only while nobody is enrolled)', params: idParams, body: replaceStepsBody, response: { 200: sequenceView } },
    },
    async (request) => replaceSteps(ctx, tenantOf(request), callerOf(request), request.params.id, request.body.steps),
  );

  app.delete(
    '/api/sequences/:id',
    { preValidation: canWrite, schema: { tags, summary: 'Delete a sequence with its enrollments (contacts stay)', params: idParams, response: noContent } },
    async (request, reply) => {
      await deleteSequence(ctx, tenantOf(request), callerOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/sequences/:id/enrollments',
    {
      preValidation: canRead,
      schema: {
        tags,
        summary: 'Enrolled contacts you may see, with each step’s status',
        params: idParams,
        querystring: z.object(pageQuery),
        response: { 200: z.object({ items: z.array(enrollmentView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => listEnrollments(ctx, tenantOf(request), callerOf(request).viewer, request.params.id, request.query),
  );

  app.post(
    '/api/sequences/:id/enrollments',
    {
      preValidation: canWrite,
      schema: { tags, summary: 'Enroll contacts (already enrolled ones are skipped)', params: idParams, body: enrollBody, response: { 200: z.object({ enrolled: z.number() }) } },
    },
    async (request) => enrollContacts(ctx, tenantOf(request), callerOf(request), request.params.id, request.body.contactIds),
  );

  app.put(
    '/api/sequences/:id/enrollments/:enrollmentId/steps/:position',
    {
      preValidation: canWrite,
      schema: {
        tags,
        summary: "Record a step's status for one enrolled contact (a reply or bounce ends the enrollment)",
        params: enrollmentParams.extend({ position: z.coerce.number().int().min(1).max(20) }),
        body: stepStatusBody,
        response: { 200: enrollmentView },
      },
    },
    async (request) =>
      setStepStatus(ctx, tenantOf(request), callerOf(request), request.params.id, request.params.enrollmentId, request.params.position, request.body.status),
  );

  app.delete(
    '/api/sequences/:id/enrollments/:enrollmentId',
    { preValidation: canWrite, schema: { tags, summary: 'Stop a contact’s enrollment (remaining steps are skipped)', params: enrollmentParams, response: noContent } },
    async (request, reply) => {
      await stopEnrollment(ctx, tenantOf(request), callerOf(request), request.params.id, request.params.enrollmentId);
      return reply.code(204).send();
    },
  );
}
