import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { requireAnyPermission, requireAuth, requirePermission, tenantOf } from '../access/auth.ts';
import { idParams } from '../access/route-schemas.ts';
import { callerOf } from '../contacts/caller.ts';
import { applyBody, applyToForm } from './apply.ts';
import { applicationView, listContactApplications } from './applications.ts';
import { createForm, findOpenForm, formBody, formFieldNames, formFieldsOf, formView, getForm, listForms, updateForm } from './forms.ts';
import { ProblemWith } from './problems.ts';
import { rateLimitRules } from '../security/rate-limit-rules.ts';
import { limitRequests } from '../security/rate-limit-hook.ts';
import { intakeSettingsBody, intakeSettingsView, updateIntakeSettings, viewOfSettings } from './settings-service.ts';
import { readIntakeSettings } from './settings.ts';
import { resendApplicationCode, verifyApplicationCode } from './verifications.ts';

const publicFormView = z.object({
  id: z.string(),
  name: z.string(),
  jobBoard: z.string().nullable(),
  fields: z.array(z.object({ field: z.enum(formFieldNames), required: z.boolean() })),
  verificationEnabled: z.boolean(),
});

const formParams = z.object({ formId: z.string().min(1).max(100) });
const verificationParams = formParams.extend({ verificationId: z.string().min(1).max(100) });

const receivedView = z.object({
  status: z.literal('received'),
  applicationId: z.string(),
  message: z.string(),
});
const verificationRequiredView = z.object({
  status: z.literal('verification_required'),
  outcome: z.literal('default'),
  applicationId: z.string(),
  verificationId: z.string(),
  message: z.string().describe("seed 002's default message: a code was emailed to the address on the existing profile"),
  codeExpiresAt: z.string(),
  resendAvailableAt: z.string(),
});

/** Duplicate rules, application forms, the public apply endpoint and application verification. */
export async function intakeRoutes(app: App, ctx: AppContext): Promise<void> {
  const canManage = requirePermission(ctx, 'duplicates.manage');
  const tags = ['intake'];
  const publicTags = ['public'];
  const limits = rateLimitRules(ctx.config);
  const param = (request: { params: unknown }, name: string) => String((request.params as Record<string, unknown>)?.[name] ?? '');

  app.get(
    '/api/intake/settings',
    {
      preValidation: requireAnyPermission(ctx, 'duplicates.manage', 'contacts.write'),
      schema: { tags, summary: "The institution's duplicate-check rule and phone region", response: { 200: intakeSettingsView } },
    },
    async (request) => viewOfSettings(await readIntakeSettings(ctx.db, tenantOf(request))),
  );

  app.put(
    '/api/intake/settings',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: "Set the institution's duplicate-check rule and phone region",
        description:
          'The rule (seed 002): `identifier` email | mobile | email_or_mobile, `lastName` true/false, `ssn` none | full | last6 | last4. ' +
          'Refused (409) when a form with application verification follows this rule and leaves a compared field optional.',
        body: intakeSettingsBody,
        response: { 200: intakeSettingsView },
      },
    },
    async (request) => updateIntakeSettings(ctx, tenantOf(request), requireAuth(request).actor, request.body),
  );

  app.get(
    '/api/forms',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: "The institution's application forms",
        querystring: z.object({ organizationId: z.string().min(1).max(100).optional() }),
        response: { 200: z.object({ items: z.array(formView) }) },
      },
    },
    async (request) => ({ items: await listForms(ctx.db, tenantOf(request), { organizationId: request.query.organizationId }) }),
  );

  app.post(
    '/api/forms',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: 'Create an application form',
        description:
          'Turning `verificationEnabled` on is refused (422) while a field the duplicate rule compares is optional or missing on the form: an applicant could leave it empty and bypass verification (seed 002).',
        body: formBody,
        response: { 201: formView },
      },
    },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const form = await createForm(ctx, tenantOf(request), requireAuth(request).actor, request.body);
        return { status: 201, body: form, resourceId: form.id };
      }),
  );

  app.get(
    '/api/forms/:id',
    { preValidation: canManage, schema: { tags, summary: 'One application form', params: idParams, response: { 200: formView } } },
    async (request) => getForm(ctx.db, tenantOf(request), request.params.id),
  );

  app.put(
    '/api/forms/:id',
    {
      preValidation: canManage,
      schema: { tags, summary: "Replace an application form's configuration", params: idParams, body: formBody, response: { 200: formView } },
    },
    async (request) => updateForm(ctx, tenantOf(request), request.params.id, requireAuth(request).actor, request.body),
  );

  app.get(
    '/api/contacts/:id/applications',
    {
      preValidation: requirePermission(ctx, 'contacts.read'),
      schema: {
        tags,
        summary: "A contact's applications, newest first, with what was entered on each",
        params: idParams,
        response: { 200: z.object({ items: z.array(applicationView) }) },
      },
    },
    async (request) => ({
      items: await listContactApplications(ctx.db, ctx.secrets.masterKey, tenantOf(request), callerOf(request).viewer, request.params.id),
    }),
  );

  // Public: no account. Rate limits are per client address (and per form or verification), counted in
  // the database so they hold across processes; onRequest, so malformed requests count too.
  app.get(
    '/api/public/forms/:formId',
    { schema: { tags: publicTags, security: [], summary: 'An open application form: its fields and which are required', params: formParams, response: { 200: publicFormView } } },
    async (request) => {
      const form = await findOpenForm(ctx.db, request.params.formId);
      return { id: form.id, name: form.name, jobBoard: form.job_board, fields: formFieldsOf(form), verificationEnabled: form.verification_enabled === 1 };
    },
  );

  app.post(
    '/api/public/forms/:formId/apply',
    {
      onRequest: limitRequests(ctx, limits.apply, (request) => `${request.ip}\n${param(request, 'formId')}`, 'applications from this address'),
      schema: {
        tags: publicTags,
        security: [],
        summary: 'Apply through a form',
        description:
          '201 `received`: a new contact was created, or the application was attached to the matching one without changing it. ' +
          '202 `verification_required` (form with verification, matching talent): a 6-digit code went to the email address on the existing profile; nothing of it changes until the code is entered. ' +
          '409 with `outcome` `full_stop` or `family_warning` and the message to show: the application cannot continue and nothing was stored. ' +
          '422 names every bad or missing field; nothing is stored.',
        params: formParams,
        body: applyBody,
        response: { 201: receivedView, 202: verificationRequiredView },
      },
    },
    async (request, reply) => {
      const result = await applyToForm(ctx, request.params.formId, request.body);
      reply.code(result.status === 'received' ? 201 : 202);
      return result;
    },
  );

  app.post(
    '/api/public/forms/:formId/verifications/:verificationId/verify',
    {
      onRequest: limitRequests(ctx, limits.applicationCode, (request) => `${request.ip}\n${param(request, 'verificationId')}`, 'codes entered'),
      schema: {
        tags: publicTags,
        security: [],
        summary: 'Enter the emailed code: the application then merges into the existing profile per the form’s policy',
        description:
          '422 `wrong_code` with `attemptsLeft`; 410 `code_expired` or `attempts_exhausted` (ask for a new code, see `canResend`); 409 when already confirmed.',
        params: verificationParams,
        body: z.strictObject({ code: z.string().max(20).describe('the 6 digits from the email') }),
        response: { 200: z.object({ status: z.literal('verified'), applicationId: z.string(), message: z.string() }) },
      },
    },
    async (request) => verifyApplicationCode(ctx, request.params.formId, request.params.verificationId, request.body.code),
  );

  app.post(
    '/api/public/forms/:formId/verifications/:verificationId/resend',
    {
      onRequest: limitRequests(ctx, limits.applicationCodeResend, (request) => `${request.ip}\n${param(request, 'verificationId')}`, 'requests for a new code'),
      schema: {
        tags: publicTags,
        security: [],
        summary: 'Send a new code (the previous one stops working)',
        description: `429 \`too_soon\` (with Retry-After) within a minute of the last code; 429 \`too_many_codes\` after the last allowed resend.`,
        params: verificationParams,
        response: {
          202: z.object({
            status: z.literal('code_sent'),
            message: z.string(),
            resendsLeft: z.number(),
            codeExpiresAt: z.string(),
            resendAvailableAt: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      try {
        const result = await resendApplicationCode(ctx, request.params.formId, request.params.verificationId);
        reply.code(202);
        return result;
      } catch (error) {
        if (error instanceof ProblemWith && typeof error.extensions.retryAfterSeconds === 'number') {
          reply.header('retry-after', String(error.extensions.retryAfterSeconds));
        }
        throw error;
      }
    },
  );
}
