import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import type { Organization } from '../db/schema.ts';
import { orgTiers } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { invalidField, notFound } from '../http/problem.ts';
import { domainSchema, organizationInputSchema } from './institutions.ts';

const csmUserIdSchema = z.string().max(100).nullable().optional().describe('a platform user with the CSM role');
const contractEndsAtSchema = z.iso.datetime({ offset: true }).nullable().optional();

export const createOrganizationSchema = organizationInputSchema.extend({ csmUserId: csmUserIdSchema });
export const updateOrganizationSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  tier: z.enum(orgTiers).optional(),
  emailDomains: z.array(domainSchema).max(50).optional(),
  csmUserId: csmUserIdSchema,
  contractEndsAt: contractEndsAtSchema,
});

export const organizationView = z.object({
  id: z.string(),
  name: z.string(),
  tier: z.enum(orgTiers),
  emailDomains: z.array(z.string()),
  csmUserId: z.string().nullable(),
  contractEndsAt: z.string().nullable(),
  createdAt: z.string(),
});
export type OrganizationView = z.infer<typeof organizationView>;

export const institutionView = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  createdAt: z.string(),
  organizations: z.array(organizationView),
});

const toView = (o: Organization): OrganizationView => ({
  id: o.id,
  name: o.name,
  tier: o.tier,
  emailDomains: JSON.parse(o.email_domains) as string[],
  csmUserId: o.csm_user_id,
  contractEndsAt: o.contract_ends_at,
  createdAt: o.created_at,
});

const isoOrNull = (value: string | null | undefined) => (value ? new Date(value).toISOString() : null);

export async function listOrganizations(db: Db, institutionId: string): Promise<OrganizationView[]> {
  const rows = await db.selectFrom('organizations').selectAll().where('institution_id', '=', institutionId).orderBy('name').orderBy('id').execute();
  return rows.map(toView);
}

export async function getOrganization(db: Db, institutionId: string, organizationId: string): Promise<OrganizationView> {
  const row = await db
    .selectFrom('organizations')
    .selectAll()
    .where('id', '=', organizationId)
    .where('institution_id', '=', institutionId)
    .executeTakeFirst();
  if (!row) throw notFound('Organization');
  return toView(row);
}

/** The export policy routes approvals to this person, so it must be a real CSM of the platform. */
async function checkCsm(db: Db, csmUserId: string): Promise<void> {
  const csm = await db
    .selectFrom('users')
    .select('id')
    .where('id', '=', csmUserId)
    .where('platform_role', '=', 'csm')
    .where('institution_id', 'is', null)
    .executeTakeFirst();
  if (!csm) throw invalidField('csmUserId', 'must be the id of a platform user with the CSM role (create one with `lethe user create --platform csm`)');
}

export async function createOrganization(
  ctx: AppContext,
  institutionId: string,
  input: z.infer<typeof createOrganizationSchema>,
  actor: Actor,
): Promise<OrganizationView> {
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    if (input.csmUserId) await checkCsm(trx, input.csmUserId);
    const values = {
      name: input.name,
      tier: input.tier,
      email_domains: JSON.stringify([...new Set(input.emailDomains)]),
      csm_user_id: input.csmUserId ?? null,
      contract_ends_at: isoOrNull(input.contractEndsAt),
    };
    await trx
      .insertInto('organizations')
      .values({ id, institution_id: institutionId, ...values, created_at: ctx.clock.now().toISOString() })
      .execute();
    await recordAudit(ctx, trx, { institutionId, actor, action: 'organization.create', target: { type: 'organization', id }, after: values });
  });
  return getOrganization(ctx.db, institutionId, id);
}

export async function updateOrganization(
  ctx: AppContext,
  institutionId: string,
  organizationId: string,
  patch: z.infer<typeof updateOrganizationSchema>,
  actor: Actor,
): Promise<OrganizationView> {
  await ctx.db.transaction().execute(async (trx) => {
    const current = await getOrganization(trx, institutionId, organizationId);
    if (patch.csmUserId) await checkCsm(trx, patch.csmUserId);
    const next = {
      name: patch.name ?? current.name,
      tier: patch.tier ?? current.tier,
      emailDomains: patch.emailDomains ? [...new Set(patch.emailDomains)] : current.emailDomains,
      csmUserId: patch.csmUserId === undefined ? current.csmUserId : patch.csmUserId,
      contractEndsAt: patch.contractEndsAt === undefined ? current.contractEndsAt : isoOrNull(patch.contractEndsAt),
    };
    await trx
      .updateTable('organizations')
      .set({
        name: next.name,
        tier: next.tier,
        email_domains: JSON.stringify(next.emailDomains),
        csm_user_id: next.csmUserId,
        contract_ends_at: next.contractEndsAt,
      })
      .where('id', '=', organizationId)
      .execute();
    const { id: _id, createdAt: _created, ...before } = current;
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'organization.update',
      target: { type: 'organization', id: organizationId },
      before,
      after: next,
    });
  });
  return getOrganization(ctx.db, institutionId, organizationId);
}

export async function describeInstitution(db: Db, institutionId: string): Promise<z.infer<typeof institutionView>> {
  const row = await db.selectFrom('institutions').select(['id', 'name', 'slug', 'created_at']).where('id', '=', institutionId).executeTakeFirst();
  if (!row) throw notFound('Institution');
  return { id: row.id, name: row.name, slug: row.slug, createdAt: row.created_at, organizations: await listOrganizations(db, institutionId) };
}
