import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { newId } from '../ids.ts';
import { platformRoles } from '../db/schema.ts';
import { isUniqueViolation } from '../db/unique-violation.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { destroyDataKey } from '../audit/data-keys.ts';
import { BULK_JOB_KIND } from '../lifecycle/bulk/bulk-job.ts';
import { completeErasure } from '../lifecycle/storage.ts';
import { conflict, invalidField, notFound } from '../http/problem.ts';
import { emailSchema, passwordSchema } from './institutions.ts';
import { hashPassword } from './passwords.ts';
import type { UserView } from './route-schemas.ts';

export const personNameSchema = z.string().trim().min(1, 'must not be empty').max(200);
const refSchema = z.string().trim().min(1, 'must not be empty').max(100);

export const createUserSchema = z.object({
  email: emailSchema,
  name: personNameSchema,
  password: passwordSchema,
  role: refSchema.describe('role id, or the key of a role such as "staff"'),
  organizationId: z.string().max(100).nullable().optional(),
});
export type CreateUserInput = z.input<typeof createUserSchema>;

export const updateUserSchema = z.object({
  name: personNameSchema.optional(),
  roleId: refSchema.optional().describe('role id (a role key is accepted too)'),
  organizationId: z.string().max(100).nullable().optional(),
});
export type UpdateUserInput = z.infer<typeof updateUserSchema>;

export const createPlatformUserSchema = z.object({
  email: emailSchema,
  name: personNameSchema,
  password: passwordSchema,
  platformRole: z.enum(platformRoles),
});

const platformRoleNames = { support: 'Support', csm: 'Customer success manager' } as const;

function selectUsers(db: Db) {
  return db
    .selectFrom('users')
    .leftJoin('roles', 'roles.id', 'users.role_id')
    .select([
      'users.id',
      'users.email',
      'users.name',
      'users.institution_id',
      'users.organization_id',
      'users.platform_role',
      'users.site_access',
      'users.created_at',
      'users.updated_at',
      'users.role_id',
      'roles.key as role_key',
      'roles.name as role_name',
    ]);
}

type UserRow = Awaited<ReturnType<ReturnType<typeof selectUsers>['executeTakeFirstOrThrow']>>;

function toView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.platform_role
      ? { id: null, key: row.platform_role, name: platformRoleNames[row.platform_role] }
      : row.role_id && row.role_key
        ? { id: row.role_id, key: row.role_key, name: row.role_name ?? row.role_key }
        : null,
    platformRole: row.platform_role,
    organizationId: row.organization_id,
    institutionId: row.institution_id,
    siteAccess: row.site_access === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Any user by id, tenant or platform; for the signed-in caller's own views. */
export async function userById(db: Db, userId: string): Promise<UserView | null> {
  const row = await selectUsers(db).where('users.id', '=', userId).executeTakeFirst();
  return row ? toView(row) : null;
}

export async function getUser(db: Db, institutionId: string, userId: string): Promise<UserView> {
  const row = await selectUsers(db).where('users.id', '=', userId).where('users.institution_id', '=', institutionId).executeTakeFirst();
  if (!row) throw notFound('User');
  return toView(row);
}

export async function listUsers(
  db: Db,
  institutionId: string,
  opts: { after?: string; limit: number; organizationId?: string; roleId?: string },
): Promise<{ items: UserView[]; nextCursor: string | null }> {
  let q = selectUsers(db).where('users.institution_id', '=', institutionId);
  if (opts.after) q = q.where('users.id', '>', opts.after);
  if (opts.organizationId) q = q.where('users.organization_id', '=', opts.organizationId);
  if (opts.roleId) q = q.where('users.role_id', '=', opts.roleId);
  const rows = await q.orderBy('users.id').limit(opts.limit + 1).execute();
  const items = rows.slice(0, opts.limit).map(toView);
  return { items, nextCursor: rows.length > opts.limit ? items[items.length - 1].id : null };
}

/** A role of the institution named by id or key; `field` names the input in the error. */
export async function resolveRole(db: Db, institutionId: string, ref: string, field: string): Promise<{ id: string; key: string }> {
  const role = await db
    .selectFrom('roles')
    .select(['id', 'key'])
    .where('institution_id', '=', institutionId)
    .where((eb) => eb.or([eb('id', '=', ref), eb('key', '=', ref)]))
    .executeTakeFirst();
  if (!role) throw invalidField(field, `"${ref}" is not a role of this institution; list them with GET /api/roles`);
  return role;
}

async function checkOrganization(db: Db, institutionId: string, organizationId: string, field: string): Promise<void> {
  const org = await db
    .selectFrom('organizations')
    .select('id')
    .where('id', '=', organizationId)
    .where('institution_id', '=', institutionId)
    .executeTakeFirst();
  if (!org) throw invalidField(field, 'is not an organization of this institution; list them with GET /api/organizations');
}

const emailTaken = () => conflict('A user with this email already exists.', [{ field: 'email', message: 'is already taken' }]);

async function refuseTakenEmail(db: Db, email: string): Promise<void> {
  const taken = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  if (taken) throw emailTaken();
}

export async function createUser(ctx: AppContext, institutionId: string, raw: CreateUserInput, actor: Actor): Promise<UserView> {
  const input = createUserSchema.parse(raw);
  const passwordHash = await hashPassword(input.password);
  const now = ctx.clock.now().toISOString();
  const id = newId();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await refuseTakenEmail(trx, input.email);
      const role = await resolveRole(trx, institutionId, input.role, 'role');
      if (input.organizationId) await checkOrganization(trx, institutionId, input.organizationId, 'organizationId');
      await trx
        .insertInto('users')
        .values({
          id,
          institution_id: institutionId,
          organization_id: input.organizationId ?? null,
          email: input.email,
          name: input.name,
          password_hash: passwordHash,
          role_id: role.id,
          platform_role: null,
          site_access: 1,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await recordAudit(ctx, trx, {
        institutionId,
        actor,
        action: 'user.create',
        target: { type: 'user', id },
        subjectId: id,
        after: { email: input.email, name: input.name, role: role.key, organizationId: input.organizationId ?? null },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken();
    throw error;
  }
  return getUser(ctx.db, institutionId, id);
}

/** Support and CSM staff of a hosted deployment: no institution, they act in one by naming it. */
export async function createPlatformUser(ctx: AppContext, raw: z.input<typeof createPlatformUserSchema>, actor: Actor): Promise<UserView> {
  const input = createPlatformUserSchema.parse(raw);
  const passwordHash = await hashPassword(input.password);
  const now = ctx.clock.now().toISOString();
  const id = newId();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await refuseTakenEmail(trx, input.email);
      await trx
        .insertInto('users')
        .values({
          id,
          institution_id: null,
          organization_id: null,
          email: input.email,
          name: input.name,
          password_hash: passwordHash,
          role_id: null,
          platform_role: input.platformRole,
          site_access: 1,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await recordAudit(ctx, trx, {
        institutionId: null,
        actor,
        action: 'user.create',
        target: { type: 'user', id },
        subjectId: id,
        after: { email: input.email, name: input.name, platformRole: input.platformRole },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken();
    throw error;
  }
  return (await userById(ctx.db, id))!;
}

export async function updateUser(ctx: AppContext, institutionId: string, userId: string, patch: UpdateUserInput, actor: Actor): Promise<UserView> {
  await ctx.db.transaction().execute(async (trx) => {
    const current = await getUser(trx, institutionId, userId);
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    const set: { name?: string; role_id?: string; organization_id?: string | null } = {};
    if (patch.name !== undefined && patch.name !== current.name) {
      before.name = current.name;
      after.name = set.name = patch.name;
    }
    if (patch.roleId !== undefined) {
      const role = await resolveRole(trx, institutionId, patch.roleId, 'roleId');
      if (role.id !== current.role?.id) {
        before.role = current.role?.key ?? null;
        after.role = role.key;
        set.role_id = role.id;
      }
    }
    if (patch.organizationId !== undefined && patch.organizationId !== current.organizationId) {
      if (patch.organizationId) await checkOrganization(trx, institutionId, patch.organizationId, 'organizationId');
      before.organizationId = current.organizationId;
      after.organizationId = set.organization_id = patch.organizationId;
    }
    if (Object.keys(set).length === 0) return;
    await trx
      .updateTable('users')
      .set({ ...set, updated_at: ctx.clock.now().toISOString() })
      .where('id', '=', userId)
      .execute();
    await recordAudit(ctx, trx, { institutionId, actor, action: 'user.update', target: { type: 'user', id: userId }, subjectId: userId, before, after });
  });
  return getUser(ctx.db, institutionId, userId);
}

/** "User can access this site": off refuses every login and request and ends the user's sessions at once. */
export async function setSiteAccess(ctx: AppContext, institutionId: string | null, userId: string, enabled: boolean, actor: Actor): Promise<UserView> {
  if (!enabled && actor.userId === userId) {
    throw conflict('You cannot switch off your own access; ask another administrator.');
  }
  await ctx.db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('users').select(['id', 'site_access', 'institution_id']).where('id', '=', userId);
    q = institutionId === null ? q.where('institution_id', 'is', null) : q.where('institution_id', '=', institutionId);
    const row = await q.executeTakeFirst();
    if (!row) throw notFound('User');
    if ((row.site_access === 1) === enabled) return;
    await trx
      .updateTable('users')
      .set({ site_access: enabled ? 1 : 0, updated_at: ctx.clock.now().toISOString() })
      .where('id', '=', userId)
      .execute();
    if (!enabled) await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: enabled ? 'user.access_enabled' : 'user.access_disabled',
      target: { type: 'user', id: userId },
      before: { siteAccess: !enabled },
      after: { siteAccess: enabled },
    });
  });
  return (await userById(ctx.db, userId))!;
}

/**
 * Removes the user and all their activity (seed 001: "all data for this employer user and
 * accompanying activity will be completely removed"): sessions, API tokens, stored idempotent
 * responses, mail still waiting to be sent to them, and the data key that seals their PII in the
 * audit log (so those entries read as shredded). Records of the institution they touched stay —
 * contacts they owned, notes they wrote, contacts' activity timelines (which drive recency), jobs
 * they started — but every link back to the user is cut (foreign keys set null; the unlinked
 * columns below by hand). Only the hash-chained audit log keeps the bare user id, as it must.
 */
export async function deleteUser(ctx: AppContext, institutionId: string, userId: string, actor: Actor): Promise<void> {
  if (actor.userId === userId) throw conflict('You cannot delete your own account; ask another administrator.');
  await ctx.db.transaction().execute(async (trx) => {
    const user = await getUser(trx, institutionId, userId);
    await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
    await trx.deleteFrom('api_tokens').where('user_id', '=', userId).execute();
    await trx
      .deleteFrom('idempotency_keys')
      .where((eb) => eb.or([eb('resource_id', '=', userId), eb('scope', 'like', `%:${userId}:%`)]))
      .execute();
    // Notifications to them not yet sent (sent ones keep no address already).
    await trx
      .deleteFrom('outbox_messages')
      .where('institution_id', '=', institutionId)
      .where('contact_id', 'is', null)
      .where((eb) => eb(eb.fn('lower', ['to_address']), '=', user.email.toLowerCase()))
      .execute();
    await unlinkUser(trx, institutionId, userId);
    await trx.deleteFrom('users').where('id', '=', userId).execute();
    await destroyDataKey(trx, userId);
    // No subject: this entry must outlive the key it just destroyed, so it holds no PII.
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'user.delete',
      target: { type: 'user', id: userId },
      meta: { role: user.role?.key ?? null },
    });
  });
  await completeErasure(ctx, ['users', 'sessions', 'api_tokens', 'data_keys', 'idempotency_keys', 'outbox_messages']);
}

/** Columns naming a user without a foreign key (logs and queues stay cheap to write), cleared on deletion. */
async function unlinkUser(trx: Db, institutionId: string, userId: string): Promise<void> {
  await trx.updateTable('activity_events').set({ actor_user_id: null }).where('institution_id', '=', institutionId).where('actor_user_id', '=', userId).execute();
  await trx.updateTable('disabled_contacts').set({ disabled_by: null }).where('institution_id', '=', institutionId).where('disabled_by', '=', userId).execute();
  await trx.updateTable('contact_archives').set({ archived_by: null }).where('institution_id', '=', institutionId).where('archived_by', '=', userId).execute();
  await trx.updateTable('webhook_subscriptions').set({ created_by: null }).where('institution_id', '=', institutionId).where('created_by', '=', userId).execute();
  // A job still to run keeps its payload (the work was authorised and is audited under the id);
  // a finished bulk job's payload, which names who ran it, is no longer needed.
  await trx
    .updateTable('jobs')
    .set({ payload: '{}' })
    .where('institution_id', '=', institutionId)
    .where('created_by', '=', userId)
    .where('kind', '=', BULK_JOB_KIND)
    .where('status', 'in', ['succeeded', 'failed', 'cancelled'])
    .execute();
  await trx.updateTable('jobs').set({ created_by: null }).where('institution_id', '=', institutionId).where('created_by', '=', userId).execute();
}
