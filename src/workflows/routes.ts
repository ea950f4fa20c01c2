import { z } from 'zod';
import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { requireAnyPermission, requireAuth, requirePermission, tenantOf } from '../access/auth.ts';
import { idParams } from '../access/route-schemas.ts';
import { callerOf } from '../contacts/caller.ts';
import { findVisibleContact } from '../contacts/contact-profile.ts';
import { workflowEnrollmentStates, workflowStatuses } from '../db/schema.ts';
import { bulkFilterSchema } from '../lifecycle/bulk/bulk-select.ts';
import { definitionSchema } from './definition.ts';
import { contactRuns, enrollFiltered, enrollmentView, getEnrollment, listEnrollments } from './enrollments.ts';
import { buildTemplate, templateKeys, templateOptions, type TemplateKey } from './templates.ts';
import { createWorkflow, getWorkflow, listWorkflows, setWorkflowStatus, updateWorkflow } from './workflows.ts';
import { publicWorkflowPages } from './public-pages.ts';

const workflowView = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(workflowStatuses),
  version: z.number().describe('the current version: new enrollments follow it'),
  definition: z.unknown().describe('the current version’s definition, with every step id filled in'),
  enrollments: z.record(z.string(), z.number()).describe('enrollments per state, all versions'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/**
 * Definitions are validated in the handler (validateDefinition), not by the route schema: its
 * errors name the step the way people read JSON (`steps[2].wait.days`) and include what only the
 * institution can tell (unknown merge fields, attributes, subscriptions). The schema stays for the
 * OpenAPI document.
 */
// `any`: one compiler serves whatever schema each route declares.
const bodyCheckedInHandler: FastifySchemaCompiler<any> = (route) =>
  route.httpPart === 'body' ? (data) => ({ value: data }) : validatorCompiler(route as never);

export async function workflowRoutes(app: App, ctx: AppContext): Promise<void> {
  const canManage = requirePermission(ctx, 'workflows.manage');
  const tags = ['workflows'];

  app.get(
    '/api/workflows',
    { preValidation: canManage, schema: { tags, summary: 'Workflows of this institution', response: { 200: z.object({ items: z.array(workflowView) }) } } },
    async (request) => ({ items: await listWorkflows(ctx.db, tenantOf(request)) }),
  );

  app.post(
    '/api/workflows',
    {
      preValidation: canManage,
      validatorCompiler: bodyCheckedInHandler,
      schema: {
        tags,
        summary: 'Create a workflow: a trigger and steps (version 1)',
        description: 'An invalid definition answers 400 with one field error per problem, each naming its step (e.g. `steps[2].wait.days`).',
        body: definitionSchema,
        response: { 201: workflowView },
      },
    },
    async (request, reply) => reply.code(201).send(await createWorkflow(ctx, tenantOf(request), request.body, requireAuth(request).actor)),
  );

  app.get(
    '/api/workflows/:id',
    { preValidation: canManage, schema: { tags, summary: 'A workflow with its current definition', params: idParams, response: { 200: workflowView } } },
    async (request) => getWorkflow(ctx.db, tenantOf(request), request.params.id),
  );

  app.put(
    '/api/workflows/:id',
    {
      preValidation: canManage,
      validatorCompiler: bodyCheckedInHandler,
      schema: {
        tags,
        summary: 'Edit a workflow: saves a new version',
        description: 'New enrollments follow the new version; running ones finish on the version they started with.',
        params: idParams,
        body: definitionSchema,
        response: { 200: workflowView },
      },
    },
    async (request) => updateWorkflow(ctx, tenantOf(request), request.params.id, request.body, requireAuth(request).actor),
  );

  for (const [action, status] of [['pause', 'paused'], ['resume', 'active']] as const) {
    app.post(
      `/api/workflows/:id/${action}`,
      {
        preValidation: canManage,
        schema: {
          tags,
          summary: action === 'pause' ? 'Pause: no step runs and no trigger enrolls until resumed' : 'Resume a paused workflow: steps that fell due meanwhile run at once',
          params: idParams,
          response: { 200: workflowView },
        },
      },
      async (request) => setWorkflowStatus(ctx, tenantOf(request), request.params.id, status, requireAuth(request).actor),
    );
  }

  app.post(
    '/api/workflows/:id/enrollments',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: 'Enroll a filtered set of contacts (manual trigger)',
        description: 'The filter is the directory’s (as bulk actions take it); contacts already running in this workflow are skipped.',
        params: idParams,
        body: z.strictObject({ filter: bulkFilterSchema }),
        response: { 200: z.object({ matched: z.number(), enrolled: z.number() }) },
      },
    },
    async (request) => enrollFiltered(ctx, tenantOf(request), callerOf(request).viewer, request.params.id, request.body.filter),
  );

  app.get(
    '/api/workflows/:id/enrollments',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: 'A workflow’s enrollments, in creation order',
        params: idParams,
        querystring: z.object({ state: z.enum(workflowEnrollmentStates).optional(), after: z.string().max(100).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: { 200: z.object({ items: z.array(enrollmentView) }) },
      },
    },
    async (request) => {
      await getWorkflow(ctx.db, tenantOf(request), request.params.id);
      return { items: await listEnrollments(ctx.db, tenantOf(request), request.params.id, request.query) };
    },
  );

  app.get(
    '/api/workflow-enrollments/:id',
    { preValidation: canManage, schema: { tags, summary: 'One enrollment with its step history', params: idParams, response: { 200: enrollmentView } } },
    async (request) => getEnrollment(ctx.db, tenantOf(request), request.params.id),
  );

  app.get(
    '/api/contacts/:id/workflow-runs',
    {
      preValidation: requireAnyPermission(ctx, 'workflows.manage', 'contacts.read'),
      schema: { tags, summary: 'A contact’s workflow runs, each with its step history', params: idParams, response: { 200: z.object({ items: z.array(enrollmentView) }) } },
    },
    async (request) => {
      const institutionId = tenantOf(request);
      await findVisibleContact(ctx.db, institutionId, callerOf(request).viewer, request.params.id);
      return { items: await contactRuns(ctx.db, institutionId, request.params.id) };
    },
  );

  app.get(
    '/api/workflow-templates',
    {
      preValidation: canManage,
      schema: { tags, summary: 'Shipped workflows, as the definitions their default options make', response: { 200: z.object({ items: z.array(z.object({ key: z.string(), definition: z.unknown() })) }) } },
    },
    async () => ({ items: templateKeys.map((key) => ({ key, definition: buildTemplate(key, {}) })) }),
  );

  app.post(
    '/api/workflow-templates/:key',
    {
      preValidation: canManage,
      validatorCompiler: bodyCheckedInHandler,
      schema: {
        tags,
        summary: 'Create a workflow from a shipped template',
        description: `Templates: ${templateKeys.join(', ')}. opt_in_or_expunge takes { graceDays (default 30), sources, name }.`,
        params: z.object({ key: z.enum(templateKeys as [TemplateKey, ...TemplateKey[]]) }),
        body: z.union([templateOptions.opt_in_or_expunge, templateOptions.consent_renewal]).optional(),
        response: { 201: workflowView },
      },
    },
    async (request, reply) => {
      const definition = buildTemplate(request.params.key, request.body ?? {});
      return reply.code(201).send(await createWorkflow(ctx, tenantOf(request), definition, requireAuth(request).actor));
    },
  );

  await publicWorkflowPages(app, ctx);
}
