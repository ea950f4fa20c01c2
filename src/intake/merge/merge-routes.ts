import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { App } from '../../http/app.ts';
import { requirePermission, tenantOf } from '../../access/auth.ts';
import { idParams } from '../../access/route-schemas.ts';
import { callerOf } from '../../contacts/caller.ts';
import { contactProfileView } from '../../contacts/contact-schemas.ts';
import { mergeContacts, previewMerge } from './merge.ts';

const mergeBody = z.object({
  otherId: z.string().min(1).max(100).describe('the contact merged into this one, then deleted'),
  choices: z
    .record(z.string(), z.enum(['survivor', 'other']))
    .optional()
    .describe('per field (firstName, lastName, email, mobilePhone, ssn, employerId, organizationId, ownerUserId, visibility, approvalStatus, optInStatus, attributes.<key>): whose value stays. Unchosen fields keep the survivor\'s value, or the other\'s when the survivor has none.'),
});

const fieldDecision = z.object({
  field: z.string(),
  survivor: z.unknown(),
  other: z.unknown(),
  chosen: z.enum(['survivor', 'other']),
  result: z.unknown(),
});

export async function mergeRoutes(app: App, ctx: AppContext): Promise<void> {
  const canMerge = requirePermission(ctx, 'contacts.read', 'contacts.write', 'duplicates.manage');
  const tags = ['duplicates'];

  app.post(
    '/api/contacts/:id/merge/preview',
    {
      preValidation: canMerge,
      schema: {
        tags,
        summary: 'What merging another contact into this one would do: each field\'s surviving value and the records that would move',
        params: idParams,
        body: mergeBody,
        response: { 200: z.object({ survivorId: z.string(), otherId: z.string(), fields: z.array(fieldDecision), moves: z.record(z.string(), z.number()) }) },
      },
    },
    async (request) => previewMerge(ctx, tenantOf(request), callerOf(request), request.params.id, request.body),
  );

  app.post(
    '/api/contacts/:id/merge',
    {
      preValidation: canMerge,
      schema: {
        tags,
        summary: 'Merge another contact into this one (the survivor), field by field; its records move here and it is deleted',
        description:
          'One transaction: the survivor takes each field\'s chosen value; notes, meetings, tasks, employments, consent, attribute values the survivor lacks, activity, outbox messages, applications and any other record of the other contact move to the survivor; the other contact is deleted and its data key destroyed. Audited with both contacts before and the survivor after.',
        params: idParams,
        body: mergeBody,
        response: { 200: z.object({ contact: contactProfileView, mergedId: z.string(), fields: z.array(fieldDecision), moved: z.record(z.string(), z.number()) }) },
      },
    },
    async (request) => mergeContacts(ctx, tenantOf(request), callerOf(request), request.params.id, request.body),
  );
}
