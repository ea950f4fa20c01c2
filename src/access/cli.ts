import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.ts';
import { withContext } from '../cli/context.ts';
import { createInstitution } from './institutions.ts';

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
      const password = opts.passwordStdin ? (await readStdin()).trim() : process.env.LETHE_ADMIN_PASSWORD;
      if (!password) {
        throw new (await import('../cli/errors.ts')).CliError(
          'No admin password given: set LETHE_ADMIN_PASSWORD or pass --password-stdin and pipe it in.',
        );
      }
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
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
