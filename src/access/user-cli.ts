import type { AppContext } from '../context.ts';
import { platformRoles, type PlatformRole } from '../db/schema.ts';
import { cliActor } from '../audit/audit-log.ts';
import { withContext } from '../cli/context.ts';
import { CliError, exitCodes } from '../cli/errors.ts';
import { issueApiToken } from './api-tokens.ts';
import { passwordFromCli } from './cli-password.ts';
import { emailSchema } from './institutions.ts';
import { createPlatformUser, createUser, deleteUser, setSiteAccess, updateUser } from './users.ts';

export interface CreateUserOptions {
  institution?: string;
  platform?: string;
  email: string;
  name: string;
  role?: string;
  organization?: string;
  passwordStdin?: boolean;
}

function checkEmail(value: string, flag: string): string {
  const parsed = emailSchema.safeParse(value);
  if (!parsed.success) throw new CliError(`${flag} "${value}" ${parsed.error.issues[0].message}.`);
  return parsed.data;
}

async function institutionBySlugOrId(ctx: AppContext, ref: string) {
  const row = await ctx.db
    .selectFrom('institutions')
    .select(['id', 'slug'])
    .where((eb) => eb.or([eb('slug', '=', ref.toLowerCase()), eb('id', '=', ref)]))
    .executeTakeFirst();
  if (!row) throw new CliError(`--institution: no institution has the slug or id "${ref}".`, exitCodes.notFound);
  return row;
}

async function userByEmail(ctx: AppContext, email: string, flag: string) {
  const row = await ctx.db
    .selectFrom('users')
    .select(['id', 'email', 'institution_id', 'platform_role'])
    .where('email', '=', checkEmail(email, flag))
    .executeTakeFirst();
  if (!row) throw new CliError(`${flag}: no user has the email "${email}".`, exitCodes.notFound);
  return row;
}

/** Flags are checked before the database is opened or a password is asked for. */
function checkCreateFlags(opts: CreateUserOptions): { platform: PlatformRole | null } {
  if (opts.institution && opts.platform) {
    throw new CliError('Give --institution for a user of one institution, or --platform for a platform user, not both.');
  }
  if (!opts.institution && !opts.platform) {
    throw new CliError('Say where the user belongs: --institution <slug|id> (with --role), or --platform support|csm.');
  }
  if (opts.platform) {
    if (!(platformRoles as readonly string[]).includes(opts.platform)) {
      throw new CliError(`--platform must be one of ${platformRoles.join(', ')} (got "${opts.platform}").`);
    }
    if (opts.role || opts.organization) throw new CliError('--role and --organization apply to institution users only; leave them out with --platform.');
    return { platform: opts.platform as PlatformRole };
  }
  if (!opts.role) throw new CliError('--role is required with --institution: admin, staff, privacy_officer, employer_user, or a custom role key.');
  return { platform: null };
}

export async function createUserCommand(opts: CreateUserOptions): Promise<void> {
  const { platform } = checkCreateFlags(opts);
  const email = checkEmail(opts.email, '--email');
  const password = await passwordFromCli(Boolean(opts.passwordStdin), 'LETHE_USER_PASSWORD');
  await withContext(async (ctx) => {
    if (platform) {
      const created = await createPlatformUser(ctx, { email, name: opts.name, password, platformRole: platform }, cliActor);
      process.stdout.write(`Created platform ${platform} user ${created.id} (${created.email}).\n`);
      return;
    }
    const institution = await institutionBySlugOrId(ctx, opts.institution!);
    const roles = await ctx.db.selectFrom('roles').select(['id', 'key']).where('institution_id', '=', institution.id).orderBy('key').execute();
    if (!roles.some((r) => r.key === opts.role || r.id === opts.role)) {
      throw new CliError(`--role "${opts.role}" is not a role of ${institution.slug}; choose one of: ${roles.map((r) => r.key).join(', ')}.`);
    }
    let organizationId: string | null = null;
    if (opts.organization) {
      const orgs = await ctx.db.selectFrom('organizations').select(['id', 'name']).where('institution_id', '=', institution.id).execute();
      const org = orgs.find((o) => o.id === opts.organization || o.name.toLowerCase() === opts.organization!.toLowerCase());
      if (!org) throw new CliError(`--organization "${opts.organization}" is not in ${institution.slug}; choose one of: ${orgs.map((o) => `"${o.name}"`).join(', ')}.`);
      organizationId = org.id;
    }
    const created = await createUser(ctx, institution.id, { email, name: opts.name, password, role: opts.role!, organizationId }, cliActor);
    process.stdout.write(`Created user ${created.id} (${created.email}, role ${created.role?.key}) in ${institution.slug}.\n`);
  });
}

export async function setAccessCommand(email: string, enabled: boolean): Promise<void> {
  await withContext(async (ctx) => {
    const user = await userByEmail(ctx, email, '<email>');
    await setSiteAccess(ctx, user.institution_id, user.id, enabled, cliActor);
    process.stdout.write(
      enabled ? `Site access switched on for ${user.email}.\n` : `Site access switched off for ${user.email}; their sessions were ended.\n`,
    );
  });
}

/** Seed 001: give a user a limited role (e.g. a custom "denied access" role), or another one back. */
export async function setRoleCommand(email: string, role: string): Promise<void> {
  await withContext(async (ctx) => {
    const user = await userByEmail(ctx, email, '<email>');
    if (!user.institution_id) throw new CliError('<email>: platform users have a platform role, not an institution role.');
    const updated = await updateUser(ctx, user.institution_id, user.id, { roleId: role }, cliActor);
    process.stdout.write(`${updated.email} now has the role ${updated.role?.key}.\n`);
  });
}

/** Seed 001: delete a user with their sessions, tokens and audit-log PII. */
export async function deleteUserCommand(email: string, opts: { yes?: boolean }): Promise<void> {
  if (!opts.yes) throw new CliError('Deleting a user cannot be undone; add --yes to confirm.');
  await withContext(async (ctx) => {
    const user = await userByEmail(ctx, email, '<email>');
    if (!user.institution_id) throw new CliError('<email>: platform users are not deleted this way.');
    await deleteUser(ctx, user.institution_id, user.id, cliActor);
    process.stdout.write(`Deleted user ${user.id} with their sessions, API tokens and audit-log personal data.\n`);
  });
}

export async function createTokenCommand(opts: { user: string; name: string }): Promise<void> {
  await withContext(async (ctx) => {
    const user = await userByEmail(ctx, opts.user, '--user');
    if (!user.institution_id) throw new CliError('--user: platform users sign in with a session; API tokens belong to institution users.');
    const issued = await issueApiToken(ctx, { institutionId: user.institution_id, userId: user.id, name: opts.name }, cliActor);
    // The secret alone on stdout, so scripts can capture it; the explanation goes to stderr.
    process.stdout.write(`${issued.token}\n`);
    process.stderr.write(`Created API token "${opts.name.trim()}" (${issued.prefix}…) for ${user.email}. It is shown only now; store it safely.\n`);
  });
}
