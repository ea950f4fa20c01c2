import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { requirePermission, tenantOf } from '../access/auth.ts';
import { idParams, noContent, pageQuery } from '../access/route-schemas.ts';
import { callerOf } from '../contacts/caller.ts';
import {
  addProjectContacts,
  createProject,
  createProjectBody,
  deleteProject,
  getProject,
  listProjectContacts,
  listProjects,
  memberView,
  projectContactsBody,
  projectView,
  removeProjectContact,
  updateProject,
  updateProjectBody,
} from './projects.ts';

const tags = ['projects'];

/** /api/projects: named lists of contacts with an owner. */
export async function projectRoutes(app: App, ctx: AppContext): Promise<void> {
  const canRead = requirePermission(ctx, 'contacts.read');
  const canWrite = requirePermission(ctx, 'contacts.read', 'contacts.write');

  app.get(
    '/api/projects',
    {
      preValidation: canRead,
      schema: {
        tags,
        summary: 'Projects of this institution, newest first',
        querystring: z.object({ ownerUserId: z.string().max(100).optional(), organizationId: z.string().max(100).optional(), ...pageQuery }),
        response: { 200: z.object({ items: z.array(projectView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => listProjects(ctx, tenantOf(request), callerOf(request).viewer, request.query),
  );

  app.post(
    '/api/projects',
    { preValidation: canWrite, schema: { tags, summary: 'Create a project (optionally with its first contacts)', body: createProjectBody, response: { 201: projectView } } },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const view = await createProject(ctx, tenantOf(request), callerOf(request), request.body);
        return { status: 201, body: view, resourceId: view.id };
      }),
  );

  app.get(
    '/api/projects/:id',
    { preValidation: canRead, schema: { tags, summary: 'A project', params: idParams, response: { 200: projectView } } },
    async (request) => getProject(ctx, tenantOf(request), callerOf(request).viewer, request.params.id),
  );

  app.patch(
    '/api/projects/:id',
    { preValidation: canWrite, schema: { tags, summary: 'Rename a project, change its description or owner', params: idParams, body: updateProjectBody, response: { 200: projectView } } },
    async (request) => updateProject(ctx, tenantOf(request), callerOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/projects/:id',
    { preValidation: canWrite, schema: { tags, summary: 'Delete a project (its contacts stay)', params: idParams, response: noContent } },
    async (request, reply) => {
      await deleteProject(ctx, tenantOf(request), callerOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/projects/:id/contacts',
    {
      preValidation: canRead,
      schema: {
        tags,
        summary: 'The contacts of a project that you may see',
        params: idParams,
        querystring: z.object(pageQuery),
        response: { 200: z.object({ items: z.array(memberView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => listProjectContacts(ctx, tenantOf(request), callerOf(request).viewer, request.params.id, request.query),
  );

  app.post(
    '/api/projects/:id/contacts',
    {
      preValidation: canWrite,
      schema: {
        tags,
        summary: 'Add contacts to a project (already present ones are skipped)',
        params: idParams,
        body: projectContactsBody,
        response: { 200: z.object({ added: z.number(), project: projectView }) },
      },
    },
    async (request) => addProjectContacts(ctx, tenantOf(request), callerOf(request), request.params.id, request.body.contactIds),
  );

  app.delete(
    '/api/projects/:id/contacts/:contactId',
    {
      preValidation: canWrite,
      schema: { tags, summary: 'Remove a contact from a project', params: idParams.extend({ contactId: z.string().min(1).max(100) }), response: noContent },
    },
    async (request, reply) => {
      await removeProjectContact(ctx, tenantOf(request), callerOf(request), request.params.id, request.params.contactId);
      return reply.code(204).send();
    },
  );
}
