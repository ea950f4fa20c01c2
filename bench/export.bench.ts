import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { stringify } from 'csv-stringify';
import { ManualClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { openSqlite } from '../src/db/connect.ts';
import { openContext } from '../src/runtime.ts';
import { newId } from '../src/ids.ts';
import { enqueueJob } from '../src/jobs/queue.ts';
import type { JobControl } from '../src/jobs/worker.ts';
import { produceExport } from '../src/exports/produce.ts';
import { exportFilePath } from '../src/exports/files.ts';
import { generateDirectory } from './generate-contacts.ts';
import { buildLetheBundles, runWorkerOnce } from './worker-process.ts';
import { figure, type BenchFigure } from './result.ts';

const COUNT = Number(process.env.BENCH_EXPORT_CONTACTS ?? 1_000_000);

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function exportRow(id: string, institutionId: string, organizationId: string, jobId: string, now: string) {
  return {
    id,
    institution_id: institutionId,
    organization_id: organizationId,
    kind: 'request' as const,
    scope: JSON.stringify({ type: 'organization', organizationId }),
    format: 'csv' as const,
    status: 'approved' as const,
    reason: 'benchmark',
    agency: 0 as const,
    requested_by: null,
    requester_label: 'bench',
    contact_id: null,
    deliver_to: 'requester' as const,
    viewer: JSON.stringify({ userId: null, seeStaffOnly: true, seeAllOwners: true }),
    approver_role: 'csm' as const,
    decided_by: null,
    decided_at: now,
    decision_note: null,
    refusal_rule: null,
    refusal_message: null,
    job_id: jobId,
    row_count: null,
    file_bytes: null,
    token_hash: null,
    link_expires_at: null,
    created_at: now,
    updated_at: now,
    ready_at: null,
    downloaded_at: null,
    destroyed_at: null,
  };
}

const SECRET = 'bench-secret-0123456789abcdef0123456789';

/** Peak resident memory while `work` runs, sampled every 20 ms. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakMb: number; startMb: number }> {
  const startMb = process.memoryUsage.rss() / 2 ** 20;
  let peak = startMb;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss() / 2 ** 20)), 20);
  try {
    const result = await work();
    return { result, peakMb: Math.max(peak, process.memoryUsage.rss() / 2 ** 20), startMb };
  } finally {
    clearInterval(timer);
  }
}

/**
 * export.rows_per_s: a team's full export of COUNT contacts (each with a custom attribute) to an
 * encrypted CSV zip, through the production job itself (pages of the team's visible contacts with
 * their attributes and consent, read ahead on the export's reader threads; employer names, CSV,
 * deflate, segmented AES-256-GCM, file). CPU seconds count every thread of the process.
 * Baseline, same run and data: one raw better-sqlite3 SELECT of the same rows and values streamed
 * through csv-stringify to a file.
 */
export async function run(): Promise<BenchFigure[]> {
  const file = path.resolve(`bench/results/.export-${COUNT}.db`);
  process.stderr.write(`generating ${COUNT} contacts (cached in ${file})…\n`);
  const meta = await generateDirectory(file, COUNT, (n) => process.stderr.write(`\r  ${n} / ${COUNT}`));
  process.stderr.write('\n');
  const dataDir = fs.mkdtempSync(path.resolve('bench/results/.export-out-'));
  const store = openSqlite(file);
  let storeClosed = false;
  const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: dataDir, LETHE_SECRET: SECRET }), {
    store,
    clock: new ManualClock('2026-02-01T00:00:00.000Z'),
    log: pino({ level: 'silent' }),
  });
  try {
    const org = await ctx.db.selectFrom('organizations').select('id').where('institution_id', '=', meta.institutionId).executeTakeFirstOrThrow();
    const columns = 'id, first_name, last_name, email, mobile_phone, employer_id, organization_id, owner_user_id, visibility, approval_status, source, opt_in_status, opt_in_changed_at, created_at, updated_at';

    // Warm the page cache for both sides equally.
    const raw = new SQLite(file, { readonly: true });
    raw.prepare(`select count(*), max(length(email)) from contacts where institution_id = ?`).get(meta.institutionId);
    raw.prepare(`select count(*), max(length(value_text)) from contact_attribute_values`).get();

    // Baseline: the bare storage work plus CSV, nothing else.
    const baseline = async () => {
      const baselineFile = path.join(dataDir, 'baseline.csv');
      const t = performance.now();
      const cpu = process.cpuUsage();
      // The same rows and values the export reads (custom attributes and authorizations included), one raw statement.
      const statement = raw
        .prepare(
          `select ${columns},
             (select json_group_array(json_array(v.attribute_id, v.value_text)) from contact_attribute_values v where v.contact_id = contacts.id),
             (select json_group_array(json_array(a.purpose, a.granted, a.updated_at)) from contact_authorizations a where a.contact_id = contacts.id)
           from contacts where institution_id = ? and organization_id = ?`,
        )
        .raw(true);
      await pipeline(Readable.from(statement.iterate(meta.institutionId, org.id)), stringify(), fs.createWriteStream(baselineFile));
      const result = { seconds: (performance.now() - t) / 1000, cpu: cpuSeconds(process.cpuUsage(cpu)), bytes: fs.statSync(baselineFile).size };
      fs.rmSync(baselineFile);
      return result;
    };

    // Product: the export job, as the worker runs it.
    const product = async () => {
      const now = ctx.clock.now().toISOString();
      const exportId = newId();
      const jobId = await enqueueJob(ctx.db, now, { institutionId: meta.institutionId, kind: 'export.produce', payload: { exportId } });
      await ctx.db.insertInto('exports').values(exportRow(exportId, meta.institutionId, org.id, jobId, now)).execute();
      const job = await ctx.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
      let last = 0;
      const control: JobControl = {
        workerId: 'bench',
        checkpoint: () => null,
        async progress(done) {
          if (done - last >= 100_000) {
            process.stderr.write(`\r  exported ${done} / ${COUNT}`);
            last = done;
          }
        },
      };
      const t = performance.now();
      const cpu = process.cpuUsage();
      const { peakMb, startMb } = await withPeakRss(() => produceExport(ctx, { ...job, attempts: 1 }, control));
      const seconds = (performance.now() - t) / 1000;
      const cpuUsed = cpuSeconds(process.cpuUsage(cpu));
      process.stderr.write('\n');
      const row = await ctx.db.selectFrom('exports').select(['status', 'row_count', 'file_bytes']).where('id', '=', exportId).executeTakeFirstOrThrow();
      if (row.status !== 'ready' || Number(row.row_count) !== COUNT) throw new Error(`export ended ${row.status} with ${row.row_count} rows`);
      fs.rmSync(exportFilePath(ctx, exportId), { force: true });
      return { seconds, cpu: cpuUsed, peakMb, startMb, bytes: Number(row.file_bytes) };
    };

    // Shared machines are noisy: each side runs twice, alternating, and keeps its best run.
    const runs: { b: Awaited<ReturnType<typeof baseline>>[]; p: Awaited<ReturnType<typeof product>>[] } = { b: [], p: [] };
    // The product goes first, after a collection, so its peak RSS is not the baseline's leftovers.
    for (let i = 0; i < 2; i++) {
      gc();
      runs.p.push(await product());
      runs.b.push(await baseline());
    }
    raw.close();

    // Peak RSS where exports really run: a `lethe worker --once` process producing one more export
    // of the same team, against the same command with nothing due. The store is handed over
    // through a second name for the same file (the worker's data folder wants `lethe.db`), with
    // this process's connection closed first, so only one WAL is ever in use.
    // The timed runs called the job's handler directly: their job rows are settled, so the worker takes only the new one.
    await ctx.db.updateTable('jobs').set({ status: 'succeeded' }).where('kind', '=', 'export.produce').where('status', '=', 'queued').execute();
    const pendingId = newId();
    const pendingJob = await enqueueJob(ctx.db, ctx.clock.now().toISOString(), { institutionId: meta.institutionId, kind: 'export.produce', payload: { exportId: pendingId } });
    await ctx.db.insertInto('exports').values(exportRow(pendingId, meta.institutionId, org.id, pendingJob, ctx.clock.now().toISOString())).execute();
    await store.close();
    storeClosed = true;
    const workerDir = path.join(dataDir, 'worker');
    fs.mkdirSync(workerDir);
    fs.linkSync(file, path.join(workerDir, 'lethe.db'));
    buildLetheBundles();
    const workerRun = await runWorkerOnce({ dataDir: workerDir, secret: SECRET });
    const workerIdle = await runWorkerOnce({ dataDir: workerDir, secret: SECRET });
    const produced = new SQLite(path.join(workerDir, 'lethe.db'), { readonly: true });
    const pendingRow = produced.prepare('select status, row_count from exports where id = ?').get(pendingId) as { status: string; row_count: number };
    produced.close();
    if (pendingRow.status !== 'ready' || Number(pendingRow.row_count) !== COUNT) throw new Error(`the worker's export ended ${pendingRow.status} with ${pendingRow.row_count} rows`);

    const best = <T extends { seconds: number }>(list: T[]) => list.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const b = best(runs.b);
    const p = best(runs.p);
    const baselineSeconds = b.seconds;
    const baselineCpu = b.cpu;
    const baselineBytes = b.bytes;
    const productSeconds = p.seconds;
    const productCpu = p.cpu;
    const peakMb = runs.p[0].peakMb;
    const startMb = runs.p[0].startMb;
    const row = { file_bytes: p.bytes };
    const rate = COUNT / productSeconds;
    const baseRate = COUNT / baselineSeconds;
    return [
      figure('export.rows_per_s', rate, 'rows/s', baseRate, {
        contacts: COUNT,
        target: '>= 100000 rows/s, ratio >= 0.5, peak RSS <= 250 MB',
        seconds: +productSeconds.toFixed(2),
        baselineSeconds: +baselineSeconds.toFixed(2),
        cpuSeconds: +productCpu.toFixed(2),
        baselineCpuSeconds: +baselineCpu.toFixed(2),
        workerPeakRssMb: workerRun.peakRssMb,
        workerIdlePeakRssMb: workerIdle.peakRssMb,
        workerSeconds: +workerRun.seconds.toFixed(2),
        benchProcessPeakRssMb: Math.round(peakMb),
        benchProcessRssAtStartMb: Math.round(startMb),
        encryptedZipBytes: row.file_bytes,
        runs: { productSeconds: runs.p.map((r) => +r.seconds.toFixed(2)), baselineSeconds: runs.b.map((r) => +r.seconds.toFixed(2)) },
        baselineCsvBytes: baselineBytes,
        productDoes: 'rowid-range pages of the team’s visible contacts read ahead on two reader threads, attribute/consent/employer enrichment, CSV, deflate zip, segmented AES-256-GCM, file',
        baselineIs: 'one raw better-sqlite3 SELECT of the same rows and values (contact columns, attributes, authorizations) streamed through csv-stringify to a file',
      }),
      figure('export.peak_rss_mb', workerRun.peakRssMb, 'MB', workerIdle.peakRssMb, {
        contacts: COUNT,
        target: '<= 250 MB',
        seconds: +workerRun.seconds.toFixed(2),
        productIs: 'a real `lethe worker --once` producing the same full export (start-up included)',
        baselineIs: 'the same `lethe worker --once` with nothing due',
      }),
    ];
  } finally {
    if (!storeClosed) await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
