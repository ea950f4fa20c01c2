import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { AppContext } from '../context.ts';
import { actorOf, loadAuthUser, type AuthContext } from '../access/auth.ts';
import { emailSchema } from '../access/institutions.ts';
import { withContext } from '../cli/context.ts';
import { CliError, exitCodes } from '../cli/errors.ts';
import { completeJob, failJob, reportJobProgress, type JobRow } from '../jobs/queue.ts';
import { JobLostError, newWorkerId, type JobControl } from '../jobs/worker.ts';
import { exportFormats } from '../db/schema.ts';
import { createSelfServeExport, getExport, reissueLink, submitExportRequest, toExportView, type ExportRow } from './exports.ts';
import { claimDownload } from './delivery.ts';
import { produceExport } from './produce.ts';
import { readExportSettings, updateExportSettings } from './settings.ts';

const LEASE_MS = 120_000;

/** The CLI acts as a named user of an institution, with that user's role and visibility. */
async function actAs(ctx: AppContext, email: string): Promise<AuthContext> {
  const parsed = emailSchema.safeParse(email);
  if (!parsed.success) throw new CliError(`--as "${email}" ${parsed.error.issues[0].message}.`);
  const row = await ctx.db.selectFrom('users').select(['id', 'institution_id']).where('email', '=', parsed.data).executeTakeFirst();
  if (!row) throw new CliError(`--as: no user has the email "${email}".`, exitCodes.notFound);
  if (!row.institution_id) throw new CliError('--as: platform users act through the API, naming the institution; give an institution user.');
  const { user, permissions } = await loadAuthUser(ctx, row.id);
  return { user, permissions, institutionId: row.institution_id, actor: { ...actorOf(user.id), label: `cli:user:${user.id}` }, via: 'token' };
}

function checkFormat(format: string): 'csv' | 'json' {
  if (!(exportFormats as readonly string[]).includes(format)) throw new CliError(`--format must be csv or json (got "${format}").`);
  return format as 'csv' | 'json';
}

/**
 * Produces the export here, with a progress bar, when its job is still queued (claiming that one
 * job, so a running worker does not produce it too); otherwise follows the worker's progress.
 */
async function produceHere(ctx: AppContext, row: ExportRow, quiet: boolean): Promise<ExportRow> {
  const bar = quiet || !process.stderr.isTTY ? null : new cliProgress.SingleBar({ format: 'exporting [{bar}] {percentage}% | {value}/{total} contacts', stream: process.stderr }, cliProgress.Presets.shades_classic);
  const workerId = `cli:${newWorkerId()}`;
  const now = ctx.clock.now();
  const claimed = await ctx.db
    .updateTable('jobs')
    .set((eb) => ({ status: 'running', lease_owner: workerId, lease_expires_at: new Date(now.getTime() + LEASE_MS).toISOString(), attempts: eb('attempts', '+', 1), updated_at: now.toISOString() }))
    .where('id', '=', row.job_id!)
    .where('status', '=', 'queued')
    .returningAll()
    .executeTakeFirst();
  let started = false;
  const tty = Boolean(process.stderr.isTTY);
  let lastLine = '';
  const show = (done: number, total: number | null | undefined) => {
    if (quiet) return;
    if (!tty) {
      // Logs and pipes get plain lines instead of a redrawn bar.
      const line = `exporting: ${done}${total !== null && total !== undefined ? ` / ${total}` : ''} contacts\n`;
      if (line !== lastLine) process.stderr.write((lastLine = line));
      return;
    }
    if (!bar) return;
    if (!started) {
      bar.start(total ?? 0, done);
      started = true;
    }
    if (total !== undefined && total !== null) bar.setTotal(total);
    bar.update(done);
  };
  try {
    if (claimed) {
      const job = claimed as JobRow;
      const control: JobControl = {
        workerId,
        checkpoint: () => null,
        async progress(done, total) {
          show(done, total);
          if (!(await reportJobProgress(ctx, ctx.db, { id: job.id, workerId, leaseMs: LEASE_MS }, done, total))) throw new JobLostError();
        },
      };
      try {
        const result = await produceExport(ctx, job, control);
        await completeJob(ctx, job.id, workerId, result);
      } catch (error) {
        if (!(error instanceof JobLostError)) await failJob(ctx, job, workerId, error instanceof Error ? error.message : String(error));
        throw error;
      }
    } else {
      for (;;) {
        const job = await ctx.db.selectFrom('jobs').select(['status', 'progress_done', 'progress_total']).where('id', '=', row.job_id!).executeTakeFirstOrThrow();
        show(Number(job.progress_done), job.progress_total === null ? null : Number(job.progress_total));
        if (job.status !== 'queued' && job.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    bar?.stop();
  }
  return (await ctx.db.selectFrom('exports').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()) as ExportRow;
}

async function deliverToFile(ctx: AppContext, auth: AuthContext, row: ExportRow, out: string): Promise<number> {
  const target = path.resolve(out);
  if (fs.existsSync(target)) throw new CliError(`--out ${out} already exists; choose a new file name (the export can be downloaded only once).`, exitCodes.conflict);
  const { token } = await reissueLink(ctx, row.institution_id, auth, row.id);
  const delivery = await claimDownload(ctx, token);
  await pipeline(delivery.stream, fs.createWriteStream(target, { mode: 0o600, flags: 'wx' }));
  return fs.statSync(target).size;
}

interface ContactsOptions {
  as: string;
  out: string;
  format: string;
  project?: string;
  sequence?: string;
  q?: string;
  lastName?: string;
  firstName?: string;
  email?: string;
  organization?: string;
  employer?: string;
  optIn?: string;
  quiet?: boolean;
}

async function contactsCommand(opts: ContactsOptions): Promise<void> {
  const format = checkFormat(opts.format);
  if (opts.project && opts.sequence) throw new CliError('Give --project or --sequence, not both.');
  await withContext(async (ctx) => {
    const auth = await actAs(ctx, opts.as);
    if (!auth.permissions.has('exports.self')) throw new CliError(`${opts.as} may not export contacts (their role lacks exports.self).`, exitCodes.usage);
    const scope = opts.project
      ? { type: 'project' as const, projectId: opts.project }
      : opts.sequence
        ? { type: 'sequence' as const, sequenceId: opts.sequence }
        : {
            type: 'contacts' as const,
            filters: {
              q: opts.q,
              lastName: opts.lastName,
              firstName: opts.firstName,
              email: opts.email,
              organizationId: opts.organization,
              employerId: opts.employer,
              optInStatus: opts.optIn as 'unknown' | 'opted_in' | 'opted_out' | undefined,
            },
          };
    let row = await createSelfServeExport(ctx, auth.institutionId!, auth, { format, scope });
    row = await produceHere(ctx, row, Boolean(opts.quiet));
    if (row.status !== 'ready') throw new CliError(`The export did not complete (status ${row.status}); see \`lethe export status ${row.id}\`.`, exitCodes.failed);
    const bytes = await deliverToFile(ctx, auth, row, opts.out);
    process.stdout.write(`Exported ${Number(row.row_count)} contacts to ${opts.out} (${bytes} bytes). Export ${row.id} is delivered; its server copy and key are destroyed.\n`);
  });
}

async function requestCommand(opts: { as: string; organization: string; reason?: string; agency?: boolean; format: string }): Promise<void> {
  const format = checkFormat(opts.format);
  await withContext(async (ctx) => {
    const auth = await actAs(ctx, opts.as);
    if (!auth.permissions.has('exports.request')) throw new CliError(`${opts.as} may not request full exports (their role lacks exports.request).`, exitCodes.usage);
    const org = await ctx.db
      .selectFrom('organizations')
      .select('id')
      .where('institution_id', '=', auth.institutionId!)
      .where((eb) => eb.or([eb('id', '=', opts.organization), eb(eb.fn('lower', ['name']), '=', opts.organization.trim().toLowerCase())]))
      .executeTakeFirst();
    if (!org) throw new CliError(`--organization: no team has the id or name "${opts.organization}" in this institution.`, exitCodes.notFound);
    const row = await submitExportRequest(ctx, auth.institutionId!, auth, { organizationId: org.id, reason: opts.reason, agency: Boolean(opts.agency), format });
    if (row.status === 'refused') {
      process.stdout.write(`Export request ${row.id} was refused (rule ${row.refusal_rule}): ${row.refusal_message}\n`);
      process.exitCode = exitCodes.usage;
      return;
    }
    process.stdout.write(`Export request ${row.id} submitted; it is ${row.status.replace('_', ' ')} (decided by ${row.approver_role === 'csm' ? "the team's CSM" : 'platform support'}). Follow it with \`lethe export status ${row.id} --as ${opts.as}\`.\n`);
  });
}

async function statusCommand(id: string, opts: { as: string }): Promise<void> {
  await withContext(async (ctx) => {
    const auth = await actAs(ctx, opts.as);
    const view = await toExportView(ctx.db, await getExport(ctx, auth.institutionId!, auth, id));
    const lines = [
      `export ${view.id} (${view.kind.replace('_', ' ')}, ${view.format})`,
      `status: ${view.status.replace('_', ' ')}`,
      ...(view.refusal ? [`refused by rule ${view.refusal.rule}: ${view.refusal.message}`] : []),
      ...(view.progress ? [`progress: ${view.progress.done}${view.progress.total !== null ? ` / ${view.progress.total}` : ''} contacts`] : []),
      ...(view.linkExpiresAt && view.status === 'ready' ? [`link expires: ${view.linkExpiresAt}`] : []),
      ...(view.downloadedAt ? [`downloaded: ${view.downloadedAt}`] : []),
      ...(view.destroyedAt ? [`destroyed: ${view.destroyedAt}`] : []),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  });
}

async function downloadCommand(id: string, opts: { as: string; out: string }): Promise<void> {
  await withContext(async (ctx) => {
    const auth = await actAs(ctx, opts.as);
    const row = await getExport(ctx, auth.institutionId!, auth, id);
    const bytes = await deliverToFile(ctx, auth, row, opts.out);
    process.stdout.write(`Downloaded export ${id} to ${opts.out} (${bytes} bytes); its server copy and key are destroyed.\n`);
  });
}

async function settingsCommand(opts: { institution: string; selfServeLimit?: string; linkTtlDays?: string; scaledApproverEmail?: string; scaledApproverName?: string }): Promise<void> {
  const int = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new CliError(`${flag} must be a whole number (got "${v}").`);
    return Number(v);
  };
  const patch = {
    selfServeLimit: int('--self-serve-limit', opts.selfServeLimit),
    linkTtlDays: int('--link-ttl-days', opts.linkTtlDays),
    scaledApproverEmail: opts.scaledApproverEmail,
    scaledApproverName: opts.scaledApproverName,
  };
  await withContext(async (ctx) => {
    const inst = await ctx.db.selectFrom('institutions').select('id').where((eb) => eb.or([eb('slug', '=', opts.institution.toLowerCase()), eb('id', '=', opts.institution)])).executeTakeFirst();
    if (!inst) throw new CliError(`--institution: no institution has the slug or id "${opts.institution}".`, exitCodes.notFound);
    const changed = Object.values(patch).some((v) => v !== undefined);
    const settings = changed ? await updateExportSettings(ctx.db, inst.id, patch) : await readExportSettings(ctx.db, inst.id);
    process.stdout.write(JSON.stringify(settings, null, 2) + '\n');
  });
}

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('exports under policy: self-serve exports to a file, full-export requests, status');
  exp
    .command('contacts')
    .description('self-serve export (up to the institution limit) of a filtered set, a project or a sequence, written to a zip file, with progress')
    .requiredOption('--as <email>', 'the user exporting (their role and visibility apply)')
    .requiredOption('--out <file>', 'the zip file to write (must not exist)')
    .option('--format <csv|json>', 'file format inside the zip', 'csv')
    .option('--project <id>', 'export a project')
    .option('--sequence <id>', 'export a sequence')
    .option('--q <text>', 'filter: prefix of first name, last name or email')
    .option('--last-name <prefix>', 'filter: last-name prefix')
    .option('--first-name <prefix>', 'filter: first-name prefix')
    .option('--email <email>', 'filter: exact email')
    .option('--organization <id>', 'filter: created by this organization')
    .option('--employer <id>', 'filter: current employer')
    .option('--opt-in <status>', 'filter: unknown, opted_in or opted_out')
    .option('--quiet', 'no progress bar')
    .action(contactsCommand);
  exp
    .command('request')
    .description("request a team's full export under the export policy (team admin, matching domain, reason; approval by support or the CSM)")
    .requiredOption('--as <email>', 'the requesting team admin')
    .requiredOption('--organization <id|name>', 'the team')
    .option('--reason <text>', 'why the team needs its data (required by the policy)')
    .option('--agency', "the request is for an agency contract's data (always refused)")
    .option('--format <csv|json>', 'file format inside the zip', 'csv')
    .action(requestCommand);
  exp
    .command('status')
    .description('show an export: state, progress, refusal rule, link expiry')
    .argument('<id>', 'export id')
    .requiredOption('--as <email>', 'who is asking (requester, or someone who decides exports)')
    .action(statusCommand);
  exp
    .command('download')
    .description('download your ready export to a file (uses up its one-time link)')
    .argument('<id>', 'export id')
    .requiredOption('--as <email>', 'the requester')
    .requiredOption('--out <file>', 'the zip file to write (must not exist)')
    .action(downloadCommand);
  exp
    .command('settings')
    .description("show or change an institution's export settings")
    .requiredOption('--institution <slug|id>', 'the institution')
    .option('--self-serve-limit <n>', 'contacts per self-serve export (default 2000)')
    .option('--link-ttl-days <n>', 'days a one-time link lives (default 7)')
    .option('--scaled-approver-email <email>', "who is told about a scaled team's request")
    .option('--scaled-approver-name <name>', 'their name')
    .action(settingsCommand);
}
