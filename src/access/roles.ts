import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { newId } from '../ids.ts';
import { isUniqueViolation } from '../db/unique-violation.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { conflict, notFound } from '../http/problem.ts';
import { permissions, permissionsOfRole, type Permission } from './permissions.ts';

const roleKeySchema = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and underscores, starting with a letter (e.g. "denied_access")');
const permissionListSchema = z
  .array(z.enum(permissions))
  .max(permissions.length * 2)
  .describe('the permissions the role grants; [] or ["account.self"] makes a "denied access" role');

export const createRoleSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  key: roleKeySchema.optional().describe('stable identifier; derived from the name when left out'),
  permissions: permissionListSchema,
});
export const updateRoleSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100).optional(),
  permissions: permissionListSchema.optional(),
});

export const roleView = z.object({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  builtin: z.boolean(),
  permissions: z.array(z.enum(permissions)),
  userCount: z.number().int(),
});
export type RoleView = z.infer<typeof roleView>;

const builtinLocked = () => conflict('Built-in roles cannot be changed or deleted; create a custom role with the permissions you want instead.');

function keyFromName(name: string): string {
  const key = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 56);
  return /^[a-z]/.test(key) ? key : `role_${key}`.replace(/_+$/, '');
}

const sorted = (list: Iterable<Permission>) => [...new Set(list)].sort();

async function roleRows(db: Db, institutionId: string, roleId?: string) {
  let q = db
    .selectFrom('roles')
    .leftJoin('users', 'users.role_id', 'roles.id')
    .select((eb) => ['roles.id', 'roles.key', 'roles.name', 'roles.builtin', 'roles.permissions', eb.fn.count<number>('users.id').as('user_count')])
    .where('roles.institution_id', '=', institutionId)
    .groupBy(['roles.id', 'roles.key', 'roles.name', 'roles.builtin', 'roles.permissions']);
  if (roleId) q = q.where('roles.id', '=', roleId);
  const rows = await q.orderBy('roles.builtin', 'desc').orderBy('roles.name').execute();
  return rows.map(
    (r): RoleView => ({
      id: r.id,
      key: r.key,
      name: r.name,
      builtin: r.builtin === 1,
      // Built-in roles take their permissions from code, so the list shown is the one enforced.
      permissions: sorted(permissionsOfRole(r)),
      userCount: Number(r.user_count),
    }),
  );
}

export const listRoles = (db: Db, institutionId: string) => roleRows(db, institutionId);

export async function getRole(db: Db, institutionId: string, roleId: string): Promise<RoleView> {
  const [role] = await roleRows(db, institutionId, roleId);
  if (!role) throw notFound('Role');
  return role;
}

export async function createRole(ctx: AppContext, institutionId: string, input: z.infer<typeof createRoleSchema>, actor: Actor): Promise<RoleView> {
  const key = input.key ?? keyFromName(input.name);
  const keyTaken = () =>
    conflict(`A role with key "${key}" already exists.`, [{ field: 'key', message: `"${key}" is already taken; give another key or name` }]);
  const id = newId();
  const granted = sorted(input.permissions);
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const taken = await trx.selectFrom('roles').select('id').where('institution_id', '=', institutionId).where('key', '=', key).executeTakeFirst();
      if (taken) throw keyTaken();
      await trx
        .insertInto('roles')
        .values({ id, institution_id: institutionId, key, name: input.name, permissions: JSON.stringify(granted), builtin: 0, created_at: ctx.clock.now().toISOString() })
        .execute();
      await recordAudit(ctx, trx, { institutionId, actor, action: 'role.create', target: { type: 'role', id }, after: { key, name: input.name, permissions: granted } });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw keyTaken();
    throw error;
  }
  return getRole(ctx.db, institutionId, id);
}

export async function updateRole(ctx: AppContext, institutionId: string, roleId: string, patch: z.infer<typeof updateRoleSchema>, actor: Actor): Promise<RoleView> {
  await ctx.db.transaction().execute(async (trx) => {
    const role = await getRole(trx, institutionId, roleId);
    if (role.builtin) throw builtinLocked();
    const name = patch.name ?? role.name;
    const granted = patch.permissions ? sorted(patch.permissions) : role.permissions;
    await trx.updateTable('roles').set({ name, permissions: JSON.stringify(granted) }).where('id', '=', roleId).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'role.update',
      target: { type: 'role', id: roleId },
      before: { name: role.name, permissions: role.permissions },
      after: { name, permissions: granted },
    });
  });
  return getRole(ctx.db, institutionId, roleId);
}

export async function deleteRole(ctx: AppContext, institutionId: string, roleId: string, actor: Actor): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const role = await getRole(trx, institutionId, roleId);
    if (role.builtin) throw builtinLocked();
    if (role.userCount > 0) {
      throw conflict(`${role.userCount} user(s) hold the role "${role.name}"; give them another role first (PATCH /api/users/:id).`);
    }
    await trx.deleteFrom('roles').where('id', '=', roleId).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'role.delete',
      target: { type: 'role', id: roleId },
      before: { key: role.key, name: role.name, permissions: role.permissions },
    });
  });
}
