import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.ts';
import { withContext } from '../cli/context.ts';
import { passwordFromCli } from './cli-password.ts';
import { createInstitution } from './institutions.ts';
import { createTokenCommand, createUserCommand, deleteUserCommand, setAccessCommand, setRoleCommand } from './user-cli.ts';

function parseOrg(value: string, previous: { name: string; tier: string; emailDomains: string[] }[] = []) {
  // name[:tier[:domain,domain]]
  const [name, tier, domains] = value.split(':');
  return [...previous, { name, tier: tier || 'free', emailDomains: domains ? domains.split(',') : [] }];
}

export function registerAccessCommands(program: Command): void {
  const institution = program.command('institution').description('tenants');
  institution
    .command('create')
    .description('create an institution with its built-in roles, organizations and first admin')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--slug <slug>', 'short unique id, lower-case letters, digits and dashes')
    .requiredOption('--admin-email <email>', "the first admin's email")
    .option('--admin-name <name>', "the first admin's name", 'Administrator')
    .option('--org <name[:tier[:domains]]>', 'an organization (repeatable), e.g. "Career Services:enterprise:uni.edu"', parseOrg)
    .option('--password-stdin', 'read the admin password from standard input instead of LETHE_ADMIN_PASSWORD')
    .action(async (opts) => {
      const password = await passwordFromCli(Boolean(opts.passwordStdin), 'LETHE_ADMIN_PASSWORD');
      await withContext(async (ctx) => {
        const created = await createInstitution(
          ctx,
          {
            name: opts.name,
            slug: opts.slug,
            organizations: (opts.org ?? []) as never,
            admin: { email: opts.adminEmail, name: opts.adminName, password },
          },
          cliActor,
        );
        process.stdout.write(`Created institution ${created.institutionId} (admin user ${created.adminUserId}).\n`);
      });
    });

  const user = program.command('user').description('staff, employer and platform users');
  user
    .command('create')
    .description('create a user in an institution (--institution) or a platform support/CSM user (--platform)')
    .option('--institution <slug|id>', 'the institution the user belongs to')
    .option('--platform <role>', 'support or csm: a platform user who acts in any tenant by naming it, always audited')
    .requiredOption('--email <email>', 'sign-in email')
    .requiredOption('--name <name>', 'display name')
    .option('--role <key>', 'with --institution: a role key (admin, staff, privacy_officer, employer_user or a custom key) or id')
    .option('--organization <id|name>', 'with --institution: the organization the user works in')
    .option('--password-stdin', 'read the password from standard input instead of LETHE_USER_PASSWORD')
    .action(createUserCommand);
  user
    .command('disable')
    .description('switch off "User can access this site": sign-in is refused and their sessions end')
    .argument('<email>', "the user's email")
    .action((email: string) => setAccessCommand(email, false));
  user
    .command('enable')
    .description('switch site access back on')
    .argument('<email>', "the user's email")
    .action((email: string) => setAccessCommand(email, true));
  user
    .command('role')
    .description("change a user's role, e.g. to a limited \"denied access\" role and back")
    .argument('<email>', "the user's email")
    .argument('<role>', 'a role key (admin, staff, privacy_officer, employer_user or a custom key) or id')
    .action(setRoleCommand);
  user
    .command('delete')
    .description('delete a user with their sessions, API tokens and audit-log personal data (irreversible)')
    .argument('<email>', "the user's email")
    .option('--yes', 'confirm')
    .action(deleteUserCommand);

  const token = program.command('token').description('API tokens');
  token
    .command('create')
    .description('create an API token for a user; the secret is printed once, on standard output')
    .requiredOption('--user <email>', 'whose token')
    .requiredOption('--name <name>', 'what the token is for, e.g. "nightly import"')
    .action(createTokenCommand);
}
