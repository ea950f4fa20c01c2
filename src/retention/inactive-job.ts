import type { AppContext } from '../context.ts';
import type { Actor } from '../audit/audit-log.ts';
import { recordAudit } from '../audit/audit-log.ts';
import type { JobRow } from '../jobs/queue.ts';
import type { JobControl } from '../jobs/worker.ts';
import { eraseContacts } from '../lifecycle/erase.ts';
import { cascadeTables, completeErasure, unlinkedContactTables } from '../lifecycle/storage.ts';
import { anonymiseBeneficiaryLines, anonymiseContacts, handKeysToSupport } from './anonymise.ts';
import { buildReport, type InactiveReport } from './inactive-report.ts';
import { beneficiaryLinesQuery, currentStates, snapshotInactive } from './inactive-selection.ts';
import { readRetentionSettings } from './settings.ts';
import { contactsInTenant } from '../contacts/by-ids.ts';
import { writingInBulk } from '../db/bulk-writing.ts';

/** Contacts per transaction: each chunk commits with its items marked done, which is the checkpoint. */
export const CHUNK_SIZE = 500;
export const batchActor: Actor = { userId: null, label: 'system:retention' };

const addMonths = (iso: string, months: number) => {
  const d = new Date(iso);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString();
};

/**
 * The inactive-contact batch job. Phase 1 fixes the set (snapshot) and writes the report in one
 * transaction; a simulation ends there, having changed nothing else. An execution then works
 * through the snapshot CHUNK_SIZE contacts per transaction, each chunk marking its items done in
 * the same commit, so a kill -9 loses at most the chunk in flight and the resumed job (same or
 * another worker, after the lease) carries on where the last commit left off; nothing is done twice.
 */
export async function runInactiveJob(ctx: AppContext, job: Pick<JobRow, 'payload'>, control: JobControl, opts: { onProgress?: (done: number, total: number) => void; chunkSize?: number } = {}): Promise<unknown> {
  const { runId, chunkSize } = JSON.parse(job.payload) as { runId: string; chunkSize?: number };
  const run = await ctx.db.selectFrom('retention_runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!run || run.status === 'succeeded') return { runId, status: run?.status ?? 'missing' };
  const institutionId = run.institution_id;
  const cutoff = new Date(run.cutoff).toISOString();
  await ctx.db.updateTable('retention_runs').set({ status: 'running' }).where('id', '=', runId).execute();

  let report: InactiveReport;
  if (run.report) report = JSON.parse(run.report);
  else {
    report = await ctx.db.transaction().execute(async (trx) => {
      await snapshotInactive(trx, runId, institutionId, cutoff);
      const built = await buildReport(trx, runId, institutionId);
      await trx.updateTable('retention_runs').set({ report: JSON.stringify(built) }).where('id', '=', runId).execute();
      return built;
    });
  }
  const total = report.totals.prospectsToDelete + report.totals.customersToAnonymise;
  if (run.mode === 'simulation') return finish(ctx, run.id, institutionId, report, 'simulation');

  const settings = await readRetentionSettings(ctx.db, institutionId);
  // Storage-level completion (checkpoint / VACUUM) once at the end rather than per chunk; a resumed
  // run does it for the chunks its killed predecessor committed too (the table list is the same).
  const erasedTables = new Set<string>(total > 0 ? ['contacts', 'data_keys', ...(await cascadeTables(ctx, ctx.db)), ...unlinkedContactTables] : []);
  // Counted once; then each chunk adds its own, and the next chunk starts after the last id handled,
  // so neither the count nor the look-up rescans the items already done.
  let doneSoFar = Number((await ctx.db.selectFrom('retention_run_items').select((eb) => eb.fn.countAll().as('n')).where('run_id', '=', runId).where('done', 'is not', null).executeTakeFirstOrThrow()).n);
  let after = '';
  let beneficiaries = report.executed?.beneficiaryNamesAnonymised ?? 0;
  // Bulk settings on SQLite: each chunk rewrites index pages all over the name and email indexes.
  await writingInBulk(ctx, async () => {
    for (;;) {
      await control.progress(doneSoFar, total);
      opts.onProgress?.(doneSoFar, total);
      const tables = await ctx.db.transaction().execute(async (trx) => {
        const next = await trx
          .selectFrom('retention_run_items')
          .select('contact_id')
          .where('run_id', '=', runId)
          .where('contact_id', '>', after)
          .where('done', 'is', null)
          .orderBy('contact_id')
          .limit(opts.chunkSize ?? chunkSize ?? CHUNK_SIZE)
          .execute();
        if (next.length === 0) return null;
        after = next[next.length - 1].contact_id;
        // Claimed by a conditional update: a second worker on the same run gets none of these.
        const claimed = await trx
          .updateTable('retention_run_items')
          .set({ done: 'working' })
          .where('run_id', '=', runId)
          .where('contact_id', 'in', next.map((n) => n.contact_id))
          .where('done', 'is', null)
          .returning('contact_id')
          .execute();
        const ids = claimed.map((c) => c.contact_id);
        const states = await currentStates(trx, institutionId, ids, cutoff);
        const rows = ids.length ? await trx.selectFrom('contacts').selectAll().where(contactsInTenant(trx, institutionId, ids)).execute() : [];
        const byId = new Map(rows.map((r) => [r.id, r]));
        const outcome = new Map<string, string>();
        const prospects = [];
        const customers = [];
        for (const id of ids) {
          const s = states.get(id)!;
          if (!s.exists) outcome.set(id, 'skipped_gone');
          else if (s.anonymised) outcome.set(id, 'skipped_anonymised');
          else if (s.active) outcome.set(id, 'skipped_active');
          else if (s.customer) (customers.push(byId.get(id)!), outcome.set(id, 'anonymised'));
          else (prospects.push(byId.get(id)!), outcome.set(id, 'deleted'));
        }
        const now = ctx.clock.now().toISOString();
        const supportUntil = addMonths(now, settings.logRetentionMonths);
        const touched = new Set<string>();
        if (customers.length) {
          (await anonymiseContacts(ctx, trx, institutionId, customers, { actor: batchActor, runId, supportUntil })).forEach((t) => touched.add(t));
          // Beneficiary names go in the same commit as the last contact of their order, so a resumed
          // run neither misses nor repeats them; the running count is kept in the run's report.
          const lines = (await beneficiaryLinesQuery(trx, institutionId, { contactIds: customers.map((c) => c.id) }).execute()).map((l) => l.id);
          const n = await anonymiseBeneficiaryLines(trx, lines, now);
          if (n) {
            touched.add('ticket_order_lines');
            beneficiaries += n;
            report = { ...report, executed: { ...(report.executed ?? { deleted: 0, anonymised: 0, skippedActive: 0 }), beneficiaryNamesAnonymised: beneficiaries } };
            await trx.updateTable('retention_runs').set({ report: JSON.stringify(report) }).where('id', '=', runId).execute();
            await recordAudit(ctx, trx, { institutionId, actor: batchActor, action: 'ticketing.beneficiaries_anonymise', target: { type: 'retention_run', id: runId }, meta: { lines: n } });
          }
        }
        // Customers first: anonymisation, the heavier part, appends its audit entries at its end, so the
        // institution's chain lock (held to COMMIT on PostgreSQL) is held only over the prospects' deletion.
        if (prospects.length) {
          const erased = await eraseContacts(ctx, trx, institutionId, prospects.map((row) => ({ id: row.id, row })), { mode: 'delete', actor: batchActor, reason: 'retention', via: 'bulk' });
          erased.tables.forEach((t) => touched.add(t));
          // Deleted prospects' sealed audit entries follow the same log retention as anonymised contacts'.
          await handKeysToSupport(trx, institutionId, prospects.map((p) => p.id), now, supportUntil);
          touched.add('data_keys');
        }
        doneSoFar += ids.length;
        for (const value of new Set(outcome.values())) {
          const part = ids.filter((id) => outcome.get(id) === value);
          await trx.updateTable('retention_run_items').set({ done: value }).where('run_id', '=', runId).where('contact_id', 'in', part).execute();
        }
        return [...touched];
      });
      if (tables === null) break;
      tables.forEach((t) => erasedTables.add(t));
    }
  });

  if (erasedTables.size) await completeErasure(ctx, erasedTables);

  const counts = await ctx.db.selectFrom('retention_run_items').select((eb) => ['done', eb.fn.countAll().as('n')]).where('run_id', '=', runId).groupBy('done').execute();
  const count = (k: string) => Number(counts.find((c) => c.done === k)?.n ?? 0);
  report = {
    ...report,
    executed: {
      deleted: count('deleted'),
      anonymised: count('anonymised'),
      skippedActive: count('skipped_active'),
      beneficiaryNamesAnonymised: beneficiaries,
    },
  };
  opts.onProgress?.(total, total);
  return finish(ctx, runId, institutionId, report, 'execution');
}

async function finish(ctx: AppContext, runId: string, institutionId: string, report: InactiveReport, mode: string): Promise<unknown> {
  const now = ctx.clock.now().toISOString();
  await ctx.db.transaction().execute(async (trx) => {
    await trx.updateTable('retention_runs').set({ status: 'succeeded', report: JSON.stringify(report), finished_at: now }).where('id', '=', runId).execute();
    await trx.deleteFrom('retention_locks').where('institution_id', '=', institutionId).where('run_id', '=', runId).execute();
    await recordAudit(ctx, trx, { institutionId, actor: batchActor, action: 'retention.run_finish', target: { type: 'retention_run', id: runId }, meta: { mode, totals: report.totals, executed: report.executed } });
  });
  return { runId, mode, totals: report.totals, executed: report.executed };
}
