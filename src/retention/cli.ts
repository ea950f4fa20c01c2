import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { AppContext } from '../context.ts';
import { cliActor } from '../audit/audit-log.ts';
import { withContext } from '../cli/context.ts';
import { CliError, exitCodes } from '../cli/errors.ts';
import { completeJob, failJob, reportJobProgress } from '../jobs/queue.ts';
import { JobLostError, type JobControl } from '../jobs/worker.ts';
import { runInactiveJob } from './inactive-job.ts';
import { getRun, startInactiveRun, type RunView } from './inactive-runs.ts';
import { rebuildRecency } from './recency-rebuild.ts';

const LEASE_MS = 120_000;

async function institutionOf(ctx: AppContext, ref: string | undefined): Promise<{ id: string; slug: string }> {
  if (!ref) {
    const all = await ctx.db.selectFrom('institutions').select(['id', 'slug']).limit(2).execute();
    if (all.length === 1) return all[0];
    throw new CliError('--institution: name the institution (slug or id); this database holds several.');
  }
  const row = await ctx.db.selectFrom('institutions').select(['id', 'slug']).where((eb) => eb.or([eb('slug', '=', ref.toLowerCase()), eb('id', '=', ref)])).executeTakeFirst();
  if (!row) throw new CliError(`--institution: no institution has the slug or id "${ref}".`, exitCodes.notFound);
  return row;
}

function parseMonths(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || n <= 0) throw new CliError(`--months: must be a whole number of months greater than 0 (got "${value}"). Nothing was run.`);
  return n;
}

/** Runs the batch's job in this process (claiming it like a worker, lease renewed as it goes), reporting progress. */
async function runHere(ctx: AppContext, jobId: string, onProgress: (done: number, total: number) => void): Promise<void> {
  const workerId = `cli:${process.pid}`;
  const now = ctx.clock.now();
  // Queued, or left running by a process that died (its lease has expired): either is ours to run.
  const claimed = await ctx.db
    .updateTable('jobs')
    .set((eb) => ({ status: 'running', lease_owner: workerId, lease_expires_at: new Date(now.getTime() + LEASE_MS).toISOString(), attempts: eb('attempts', '+', 1), updated_at: now.toISOString() }))
    .where('id', '=', jobId)
    .where((eb) => eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<', now.toISOString())])]))
    .returningAll()
    .executeTakeFirst();
  if (!claimed) throw new CliError(`Job ${jobId} was already taken by a worker; follow it with GET /api/retention/runs.`, exitCodes.conflict);
  const control: JobControl = {
    workerId,
    checkpoint: () => null,
    async progress(done, total) {
      if (!(await reportJobProgress(ctx, ctx.db, { id: jobId, workerId, leaseMs: LEASE_MS }, done, total))) throw new JobLostError();
    },
  };
  try {
    const result = await runInactiveJob(ctx, claimed, control, { onProgress });
    await completeJob(ctx, jobId, workerId, result);
  } catch (error) {
    if (!(error instanceof JobLostError)) await failJob(ctx, { ...claimed, max_attempts: claimed.attempts }, workerId, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** An execution that holds the lock but whose process died (lease expired): the same command resumes it. */
async function interruptedExecution(ctx: AppContext, institutionId: string): Promise<RunView | null> {
  const held = await ctx.db
    .selectFrom('retention_locks as l')
    .innerJoin('retention_runs as r', 'r.id', 'l.run_id')
    .innerJoin('jobs as j', 'j.id', 'r.job_id')
    .select(['r.id', 'r.mode', 'j.status', 'j.lease_expires_at'])
    .where('l.institution_id', '=', institutionId)
    .executeTakeFirst();
  const now = ctx.clock.now().getTime();
  if (!held || held.mode !== 'execution' || held.status !== 'running' || !held.lease_expires_at || Date.parse(new Date(held.lease_expires_at).toISOString()) >= now) return null;
  return getRun(ctx.db, institutionId, held.id);
}

function describe(run: RunView): string {
  const r = run.report!;
  const lines = [
    `${run.mode === 'simulation' ? 'Simulation (nothing was changed)' : 'Execution'} of run ${run.id}: inactive since before ${run.cutoff.slice(0, 10)} (${run.months} months).`,
    `  prospects to delete:            ${r.totals.prospectsToDelete}`,
    `  customers to anonymise:         ${r.totals.customersToAnonymise}`,
    `  beneficiary names to anonymise: ${r.totals.beneficiaryNamesToAnonymise}`,
  ];
  if (r.executed) lines.push(`  done: ${r.executed.deleted} deleted, ${r.executed.anonymised} anonymised, ${r.executed.skippedActive} skipped (active again), ${r.executed.beneficiaryNamesAnonymised} beneficiary names anonymised`);
  for (const o of r.perOrganization) lines.push(`  ${o.organizationName ?? '(no organization)'}: ${o.prospectsToDelete} to delete, ${o.customersToAnonymise} to anonymise`);
  lines.push(`Report: GET /api/retention/runs/${run.id} (CSV: /api/retention/runs/${run.id}/report.csv)`);
  return lines.join('\n') + '\n';
}

export function registerRetentionCommands(program: Command): void {
  const batch = program.commands.find((c) => c.name() === 'batch') ?? program.command('batch').description('scheduled batches, run now');
  batch
    .command('inactive')
    .description('"Deletion/anonymisation of inactive contacts": a simulation report unless --execute')
    .option('--institution <slug-or-id>', 'the institution (required when the database holds several)')
    .option('--months <n>', 'inactivity period in months (default: the institution’s setting, 36)')
    .option('--execute', 'delete prospects and anonymise customers for real (default: simulation)')
    .option('--chunk <n>', 'contacts per transaction (default 500)')
    .action(async (opts: { institution?: string; months?: string; execute?: boolean; chunk?: string }) => {
      const months = parseMonths(opts.months);
      const chunkSize = opts.chunk === undefined ? undefined : Number(opts.chunk);
      if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 10_000)) throw new CliError(`--chunk: must be a whole number from 1 to 10000 (got "${opts.chunk}").`);
      await withContext(async (ctx) => {
        const inst = await institutionOf(ctx, opts.institution);
        const interrupted = opts.execute ? await interruptedExecution(ctx, inst.id) : null;
        if (interrupted) process.stderr.write(`Resuming the interrupted execution ${interrupted.id} (as of ${interrupted.asOf.slice(0, 10)}, ${interrupted.months} months).\n`);
        const run = interrupted ?? (await startInactiveRun(ctx, inst.id, { months, execute: opts.execute ? true : undefined, actor: cliActor, chunkSize }));
        const bar = new cliProgress.SingleBar({ format: `${run.mode} [{bar}] {percentage}% | {value}/{total} contacts | {eta_formatted} left`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
        bar.start(1, 0);
        try {
          await runHere(ctx, run.jobId!, (done, total) => bar.update(done, { total: Math.max(total, 1) }));
          bar.update(bar.getTotal());
        } finally {
          bar.stop();
        }
        const finished = await getRun(ctx.db, inst.id, run.id);
        if (!finished || finished.status !== 'succeeded' || !finished.report) throw new CliError(`Run ${run.id} did not finish (${finished?.status}).`, exitCodes.failed);
        process.stdout.write(describe(finished));
      });
    });

  const recency = program.command('recency').description('the contact recency indicator (seed 004)');
  recency
    .command('rebuild')
    .description('recompute every contact’s recency from orders, options, waiting lists and activity')
    .option('--institution <slug-or-id>', 'only this institution (default: all)')
    .action(async (opts: { institution?: string }) => {
      await withContext(async (ctx) => {
        const inst = opts.institution ? await institutionOf(ctx, opts.institution) : null;
        const started = Date.now();
        const { contacts } = await rebuildRecency(ctx, inst?.id ?? null);
        process.stdout.write(`Recency rebuilt: ${contacts} contacts with recorded activity (the others count from their creation date) in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
      });
    });
}
