import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { newId } from '../ids.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { recordActivity } from '../activity/events.ts';
import type { Caller } from '../contacts/contacts.ts';
import { decodeCursor, encodeCursor } from '../contacts/cursor.ts';
import { visibleTo, type Viewer } from '../contacts/visibility.ts';
import { invalidFields, notFound, type FieldError } from '../http/problem.ts';
import { contactsInTenant } from '../contacts/by-ids.ts';

/**
 * Projects: named lists of contacts with an owner (seed 003 exports them). A project belongs to
 * the organization of the user who created it, so a team's full export carries its projects.
 * Members are listed, counted and exported only as far as the viewer may see them.
 */

export const projectView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  ownerUserId: z.string().nullable(),
  organizationId: z.string().nullable(),
  contactCount: z.number().describe('members you may see'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ProjectView = z.infer<typeof projectView>;

export const createProjectBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  description: z.string().trim().max(5000).nullable().optional(),
  ownerUserId: z.string().max(100).optional().describe('default: you'),
  contactIds: z.array(z.string().min(1).max(100)).max(1000).optional(),
});
export const updateProjectBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  description: z.string().trim().max(5000).nullable().optional(),
  ownerUserId: z.string().max(100).optional(),
});
export const projectContactsBody = z.strictObject({ contactIds: z.array(z.string().min(1).max(100)).min(1).max(1000) });

export const memberView = z.object({
  contactId: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  email: z.string().nullable(),
  addedAt: z.string(),
});

type ProjectRow = { id: string; institution_id: string; organization_id: string | null; name: string; description: string | null; owner_user_id: string | null; created_at: string; updated_at: string };

async function memberCount(db: Db, projectId: string, viewer: Viewer): Promise<number> {
  const row = await db
    .selectFrom('project_contacts')
    .innerJoin('contacts', 'contacts.id', 'project_contacts.contact_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_contacts.project_id', '=', projectId)
    .where(visibleTo(viewer))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function toView(db: Db, row: ProjectRow, viewer: Viewer): Promise<ProjectView> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ownerUserId: row.owner_user_id,
    organizationId: row.organization_id,
    contactCount: await memberCount(db, row.id, viewer),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function findProject(db: Db, institutionId: string, id: string): Promise<ProjectRow> {
  const row = await db.selectFrom('projects').selectAll().where('id', '=', id).where('institution_id', '=', institutionId).executeTakeFirst();
  if (!row) throw notFound('Project');
  return row;
}

export async function checkOwner(db: Db, institutionId: string, userId: string, field = 'ownerUserId'): Promise<void> {
  const found = await db.selectFrom('users').select('id').where('id', '=', userId).where('institution_id', '=', institutionId).executeTakeFirst();
  if (!found) throw invalidFields([{ field, message: 'is not a user of this institution' }], `${field}: is not a user of this institution`);
}

/** The listed contacts, each checked to exist in the institution and be visible to the caller (else a field error naming it). */
export async function checkVisibleContacts(db: Db, institutionId: string, viewer: Viewer, ids: string[], field = 'contactIds'): Promise<string[]> {
  const unique = [...new Set(ids)];
  const found = new Set<string>();
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db
      .selectFrom('contacts')
      .select('contacts.id')
      .where(contactsInTenant(db, institutionId, unique.slice(i, i + 500)))
      .where(visibleTo(viewer))
      .execute();
    for (const r of rows) found.add(r.id);
  }
  const errors: FieldError[] = ids.flatMap((id, i) => (found.has(id) ? [] : [{ field: `${field}.${i}`, message: 'is not a contact you can see in this institution' }]));
  if (errors.length) throw invalidFields(errors, `Some contacts were not found: ${errors.map((e) => e.field).join(', ')}. Nothing was changed.`);
  return unique;
}

async function addMembers(ctx: AppContext, trx: Db, project: ProjectRow, caller: Caller, contactIds: string[], now: string): Promise<number> {
  if (!contactIds.length) return 0;
  const existing = new Set(
    (await trx.selectFrom('project_contacts').select('contact_id').where('project_id', '=', project.id).where('contact_id', 'in', contactIds).execute()).map((r) => r.contact_id),
  );
  const fresh = contactIds.filter((id) => !existing.has(id));
  if (!fresh.length) return 0;
  await trx
    .insertInto('project_contacts')
    .values(fresh.map((contact_id) => ({ project_id: project.id, contact_id, institution_id: project.institution_id, added_by: caller.actor.userId, added_at: now })))
    .execute();
  const orgs = await trx.selectFrom('contacts').select(['id', 'organization_id']).where('id', 'in', fresh).execute();
  await recordActivity(
    trx,
    orgs.map((c) => ({
      institutionId: project.institution_id,
      contactId: c.id,
      organizationId: c.organization_id,
      actorUserId: caller.actor.userId,
      type: 'project.contact_added',
      occurredAt: now,
      data: { projectId: project.id },
    })),
  );
  return fresh.length;
}

export async function createProject(ctx: AppContext, institutionId: string, caller: Caller, input: z.infer<typeof createProjectBody>): Promise<ProjectView> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const row = await ctx.db.transaction().execute(async (trx) => {
    const owner = input.ownerUserId ?? caller.actor.userId;
    if (input.ownerUserId) await checkOwner(trx, institutionId, input.ownerUserId);
    const contactIds = input.contactIds?.length ? await checkVisibleContacts(trx, institutionId, caller.viewer, input.contactIds) : [];
    const row: ProjectRow = {
      id: newId(now.getTime()),
      institution_id: institutionId,
      organization_id: caller.organizationId,
      name: input.name,
      description: input.description ?? null,
      owner_user_id: owner,
      created_at: at,
      updated_at: at,
    };
    await trx.insertInto('projects').values(row).execute();
    const added = await addMembers(ctx, trx, row, caller, contactIds, at);
    await recordAudit(ctx, trx, {
      institutionId,
      actor: caller.actor,
      action: 'project.create',
      target: { type: 'project', id: row.id },
      after: { name: row.name, ownerUserId: owner, organizationId: row.organization_id },
      meta: { contactsAdded: added },
    });
    return row;
  });
  return toView(ctx.db, row, caller.viewer);
}

export async function getProject(ctx: AppContext, institutionId: string, viewer: Viewer, id: string): Promise<ProjectView> {
  return toView(ctx.db, await findProject(ctx.db, institutionId, id), viewer);
}

export async function listProjects(
  ctx: AppContext,
  institutionId: string,
  viewer: Viewer,
  opts: { ownerUserId?: string; organizationId?: string; after?: string; limit: number },
): Promise<{ items: ProjectView[]; nextCursor: string | null }> {
  let q = ctx.db.selectFrom('projects').selectAll().where('institution_id', '=', institutionId);
  if (opts.ownerUserId) q = q.where('owner_user_id', '=', opts.ownerUserId);
  if (opts.organizationId) q = q.where('organization_id', '=', opts.organizationId);
  if (opts.after) q = q.where('id', '<', String(decodeCursor('projects', opts.after, 1)[0]));
  const rows = await q.orderBy('id', 'desc').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  return {
    items: await Promise.all(page.map((r) => toView(ctx.db, r, viewer))),
    nextCursor: rows.length > opts.limit ? encodeCursor('projects', [page[page.length - 1].id]) : null,
  };
}

export async function updateProject(ctx: AppContext, institutionId: string, caller: Caller, id: string, patch: z.infer<typeof updateProjectBody>): Promise<ProjectView> {
  const at = ctx.clock.now().toISOString();
  const row = await ctx.db.transaction().execute(async (trx) => {
    const current = await findProject(trx, institutionId, id);
    if (patch.ownerUserId) await checkOwner(trx, institutionId, patch.ownerUserId);
    const next = {
      name: patch.name ?? current.name,
      description: patch.description === undefined ? current.description : patch.description,
      owner_user_id: patch.ownerUserId ?? current.owner_user_id,
    };
    await trx.updateTable('projects').set({ ...next, updated_at: at }).where('id', '=', id).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor: caller.actor,
      action: 'project.update',
      target: { type: 'project', id },
      before: { name: current.name, ownerUserId: current.owner_user_id },
      after: { name: next.name, ownerUserId: next.owner_user_id },
    });
    return { ...current, ...next, updated_at: at };
  });
  return toView(ctx.db, row, caller.viewer);
}

export async function deleteProject(ctx: AppContext, institutionId: string, caller: Caller, id: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const current = await findProject(trx, institutionId, id);
    await trx.deleteFrom('project_contacts').where('project_id', '=', id).execute();
    await trx.deleteFrom('projects').where('id', '=', id).execute();
    await recordAudit(ctx, trx, { institutionId, actor: caller.actor, action: 'project.delete', target: { type: 'project', id }, before: { name: current.name } });
  });
}

export async function addProjectContacts(ctx: AppContext, institutionId: string, caller: Caller, id: string, contactIds: string[]): Promise<{ added: number; project: ProjectView }> {
  const at = ctx.clock.now().toISOString();
  const added = await ctx.db.transaction().execute(async (trx) => {
    const project = await findProject(trx, institutionId, id);
    const ids = await checkVisibleContacts(trx, institutionId, caller.viewer, contactIds);
    const n = await addMembers(ctx, trx, project, caller, ids, at);
    await trx.updateTable('projects').set({ updated_at: at }).where('id', '=', id).execute();
    await recordAudit(ctx, trx, { institutionId, actor: caller.actor, action: 'project.contacts_added', target: { type: 'project', id }, meta: { added: n } });
    return n;
  });
  return { added, project: await getProject(ctx, institutionId, caller.viewer, id) };
}

export async function removeProjectContact(ctx: AppContext, institutionId: string, caller: Caller, id: string, contactId: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await findProject(trx, institutionId, id);
    await checkVisibleContacts(trx, institutionId, caller.viewer, [contactId], 'contactId').catch(() => {
      throw notFound('Contact in this project');
    });
    const gone = await trx.deleteFrom('project_contacts').where('project_id', '=', id).where('contact_id', '=', contactId).executeTakeFirst();
    if (Number(gone.numDeletedRows) === 0) throw notFound('Contact in this project');
    await recordAudit(ctx, trx, { institutionId, actor: caller.actor, action: 'project.contact_removed', target: { type: 'project', id }, subjectId: contactId, meta: { contactId } });
  });
}

export async function listProjectContacts(
  ctx: AppContext,
  institutionId: string,
  viewer: Viewer,
  id: string,
  opts: { after?: string; limit: number },
): Promise<{ items: z.infer<typeof memberView>[]; nextCursor: string | null }> {
  await findProject(ctx.db, institutionId, id);
  let q = ctx.db
    .selectFrom('project_contacts')
    .innerJoin('contacts', 'contacts.id', 'project_contacts.contact_id')
    .select(['contacts.id', 'contacts.first_name', 'contacts.last_name', 'contacts.email', 'project_contacts.added_at'])
    .where('project_contacts.project_id', '=', id)
    .where(visibleTo(viewer));
  if (opts.after) q = q.where('project_contacts.contact_id', '>', String(decodeCursor('project-contacts', opts.after, 1)[0]));
  const rows = await q.orderBy('project_contacts.contact_id').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  return {
    items: page.map((r) => ({ contactId: r.id, firstName: r.first_name, lastName: r.last_name, email: r.email, addedAt: r.added_at })),
    nextCursor: rows.length > opts.limit ? encodeCursor('project-contacts', [page[page.length - 1].id]) : null,
  };
}
