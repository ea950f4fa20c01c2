import fs from 'node:fs';
import type { Command } from 'commander';
import type { AppContext } from '../context.ts';
import { cliActor } from '../audit/audit-log.ts';
import { withContext } from '../cli/context.ts';
import { CliError, exitCodes } from '../cli/errors.ts';
import { systemViewer } from '../contacts/visibility.ts';
import { bulkFilterSchema } from '../lifecycle/bulk/bulk-select.ts';
import { enrollFiltered } from './enrollments.ts';
import { buildTemplate, templateKeys, type TemplateKey } from './templates.ts';
import { createWorkflow, getWorkflow, listWorkflows, setWorkflowStatus } from './workflows.ts';

async function institutionId(ctx: AppContext, ref: string): Promise<string> {
  const row = await ctx.db
    .selectFrom('institutions')
    .select('id')
    .where((eb) => eb.or([eb('slug', '=', ref.toLowerCase()), eb('id', '=', ref)]))
    .executeTakeFirst();
  if (!row) throw new CliError(`--institution: no institution has the slug or id "${ref}".`, exitCodes.notFound);
  return row.id;
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const collect = (value: string, previous: string[] = []) => [...previous, value];

interface EnrollFlags {
  institution: string;
  ids?: string;
  source?: string;
  optInStatus?: string;
  createdFrom?: string;
  createdTo?: string;
  attr?: string[];
}

function filterOf(o: EnrollFlags) {
  const attributes = o.attr?.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--attr "${pair}" must be key=value.`);
    return { key: pair.slice(0, eq), op: 'eq' as const, values: [pair.slice(eq + 1)] };
  });
  const raw = { ids: o.ids?.split(',').map((s) => s.trim()).filter(Boolean), source: o.source, optInStatus: o.optInStatus, createdFrom: o.createdFrom, createdTo: o.createdTo, attributes };
  const parsed = bulkFilterSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    const flag: Record<string, string> = { optInStatus: '--opt-in-status', createdFrom: '--created-from', createdTo: '--created-to', attributes: '--attr' };
    throw new CliError(`Invalid input:\n${parsed.error.issues.map((i) => `  ${flag[String(i.path[0])] ?? `--${String(i.path[0] ?? 'input')}`}: ${i.message}`).join('\n')}\nNothing was changed.`);
  }
  if (Object.keys(parsed.data).length === 0) throw new CliError('Say whom to enroll: --ids, --source, --opt-in-status, --created-from/--created-to or --attr.');
  return parsed.data;
}

/** `lethe workflow …`: the workflows of an institution, from a shell. */
export function registerWorkflowCommands(program: Command): void {
  const workflow = program.command('workflow').description('workflows: list, show, create, enroll contacts, pause and resume');
  const inst = (cmd: Command) => cmd.requiredOption('--institution <slug>', 'the institution (slug or id)');

  inst(workflow.command('list').description('the workflows, with their status, version and enrollments per state')).action((o: { institution: string }) =>
    withContext(async (ctx) => {
      const items = await listWorkflows(ctx.db, await institutionId(ctx, o.institution));
      if (items.length === 0) return void process.stdout.write('No workflows.\n');
      for (const w of items) {
        const counts = Object.entries(w.enrollments).map(([s, n]) => `${s} ${n}`).join(', ') || 'no enrollments';
        process.stdout.write(`${w.id}  ${w.status.padEnd(6)}  v${w.version}  ${w.name}  (${counts})\n`);
      }
    }),
  );

  inst(workflow.command('show <id>').description('a workflow with its current definition, as JSON')).action((id: string, o: { institution: string }) =>
    withContext(async (ctx) => {
      print(await getWorkflow(ctx.db, await institutionId(ctx, o.institution), id));
    }),
  );

  inst(workflow.command('create').description('create a workflow from a JSON definition file, or from a shipped template'))
    .option('--file <path>', 'the definition (JSON)')
    .option('--template <key>', `a shipped template: ${templateKeys.join(', ')}`)
    .option('--grace-days <n>', 'opt_in_or_expunge: days to opt in before being expunged (default 30)')
    .action((o: { institution: string; file?: string; template?: string; graceDays?: string }) =>
      withContext(async (ctx) => {
        if (Boolean(o.file) === Boolean(o.template)) throw new CliError('Give either --file or --template.');
        let definition: unknown;
        if (o.template) {
          if (!templateKeys.includes(o.template as TemplateKey)) throw new CliError(`--template: one of ${templateKeys.join(', ')}.`);
          definition = buildTemplate(o.template as TemplateKey, o.graceDays !== undefined ? { graceDays: Number(o.graceDays) } : {});
        } else {
          try {
            definition = JSON.parse(fs.readFileSync(o.file!, 'utf8'));
          } catch (error) {
            throw new CliError(`--file: cannot read a JSON definition from ${o.file} (${(error as Error).message}).`);
          }
        }
        const created = await createWorkflow(ctx, await institutionId(ctx, o.institution), definition, cliActor);
        process.stdout.write(`Workflow ${created.id} created (version ${created.version}): ${created.name}\n`);
      }),
    );

  inst(workflow.command('enroll <id>').description('enroll the contacts a filter selects (contacts already running in it are skipped)'))
    .option('--ids <ids>', 'comma-separated contact ids')
    .option('--source <source>', 'self_signup, application, manual, bulk_import or api')
    .option('--opt-in-status <status>', 'unknown, opted_in or opted_out')
    .option('--created-from <iso>', 'created at or after')
    .option('--created-to <iso>', 'created before')
    .option('--attr <key=value>', 'custom attribute equals (repeatable)', collect)
    .action((id: string, o: EnrollFlags) =>
      withContext(async (ctx) => {
        const filter = filterOf(o);
        const result = await enrollFiltered(ctx, await institutionId(ctx, o.institution), systemViewer, id, filter);
        process.stdout.write(`Enrolled ${result.enrolled} of ${result.matched} matching contact(s) in workflow ${id}.\n`);
      }),
    );

  for (const [action, status] of [['pause', 'paused'], ['resume', 'active']] as const) {
    inst(workflow.command(`${action} <id>`).description(action === 'pause' ? 'hold every run where it is; triggers enroll nobody' : 'let the runs continue')).action((id: string, o: { institution: string }) =>
      withContext(async (ctx) => {
        const w = await setWorkflowStatus(ctx, await institutionId(ctx, o.institution), id, status, cliActor);
        process.stdout.write(`Workflow ${w.id} is ${w.status}.\n`);
      }),
    );
  }
}
