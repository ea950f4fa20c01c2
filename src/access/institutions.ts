import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { newId } from '../ids.ts';
import { orgTiers } from '../db/schema.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { conflict } from '../http/problem.ts';
import { builtinRoleKeys, builtinRoles } from './permissions.ts';
import { hashPassword, passwordRule } from './passwords.ts';

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be an email address like name@example.org' }));
export const domainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain like example.org');
export const passwordSchema = z
  .string()
  .min(passwordRule.min, `must be at least ${passwordRule.min} characters`)
  .max(passwordRule.max, `must be at most ${passwordRule.max} characters`);
export const slugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'must be lower-case letters, digits and dashes (e.g. "state-university")');

export const organizationInputSchema = z.object({
  name: z.string().trim().min(1).max(200),
  tier: z.enum(orgTiers).default('free'),
  emailDomains: z.array(domainSchema).max(50).default([]),
  contractEndsAt: z.iso.datetime({ offset: true }).nullable().optional(),
});
export type OrganizationInput = z.infer<typeof organizationInputSchema>;

export const createInstitutionSchema = z.object({
  name: z.string().trim().min(1).max(200),
  slug: slugSchema,
  organizations: z.array(organizationInputSchema).max(100).default([]),
  admin: z.object({ email: emailSchema, name: z.string().trim().min(1).max(200), password: passwordSchema }),
});
export type CreateInstitutionInput = z.input<typeof createInstitutionSchema>;

export interface CreatedInstitution {
  institutionId: string;
  organizationIds: string[];
  adminUserId: string;
  roleIds: Record<string, string>;
}

/** Creates a tenant with its built-in roles, its organizations and its first admin, in one transaction. */
export async function createInstitution(ctx: AppContext, raw: CreateInstitutionInput, actor: Actor): Promise<CreatedInstitution> {
  const input = createInstitutionSchema.parse(raw);
  const now = ctx.clock.now().toISOString();
  const passwordHash = await hashPassword(input.admin.password);
  return ctx.db.transaction().execute(async (trx) => {
    const taken = await trx.selectFrom('institutions').select('id').where('slug', '=', input.slug).executeTakeFirst();
    if (taken) throw conflict(`An institution with slug "${input.slug}" already exists.`, [{ field: 'slug', message: 'is already taken' }]);
    const emailTaken = await trx.selectFrom('users').select('id').where('email', '=', input.admin.email).executeTakeFirst();
    if (emailTaken) throw conflict('A user with this email already exists.', [{ field: 'admin.email', message: 'is already taken' }]);

    const institutionId = newId();
    await trx.insertInto('institutions').values({ id: institutionId, name: input.name, slug: input.slug, settings: '{}', created_at: now }).execute();
    const roleIds: Record<string, string> = {};
    for (const key of builtinRoleKeys) {
      roleIds[key] = newId();
      await trx
        .insertInto('roles')
        .values({
          id: roleIds[key],
          institution_id: institutionId,
          key,
          name: builtinRoles[key].name,
          permissions: JSON.stringify(builtinRoles[key].permissions),
          builtin: 1,
          created_at: now,
        })
        .execute();
    }
    const organizationIds: string[] = [];
    for (const org of input.organizations) {
      const id = newId();
      organizationIds.push(id);
      await trx
        .insertInto('organizations')
        .values({
          id,
          institution_id: institutionId,
          name: org.name,
          tier: org.tier,
          email_domains: JSON.stringify(org.emailDomains),
          csm_user_id: null,
          contract_ends_at: org.contractEndsAt ? new Date(org.contractEndsAt).toISOString() : null,
          created_at: now,
        })
        .execute();
    }
    const adminUserId = newId();
    await trx
      .insertInto('users')
      .values({
        id: adminUserId,
        institution_id: institutionId,
        organization_id: organizationIds[0] ?? null,
        email: input.admin.email,
        name: input.admin.name,
        password_hash: passwordHash,
        role_id: roleIds.admin,
        platform_role: null,
        site_access: 1,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'institution.create',
      target: { type: 'institution', id: institutionId },
      after: { name: input.name, slug: input.slug, organizations: input.organizations.map((o) => ({ name: o.name, tier: o.tier })) },
    });
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'user.create',
      target: { type: 'user', id: adminUserId },
      subjectId: adminUserId,
      after: { email: input.admin.email, name: input.admin.name, role: 'admin' },
    });
    return { institutionId, organizationIds, adminUserId, roleIds };
  });
}
