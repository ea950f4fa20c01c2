import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import pino from 'pino';
import { sql } from 'kysely';
import { ManualClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import type { AppContext } from '../src/context.ts';
import { openPostgres, openSqlite, type Store } from '../src/db/connect.ts';
import { openContext } from '../src/runtime.ts';
import { newId } from '../src/ids.ts';
import { systemActor } from '../src/audit/audit-log.ts';
import { createInstitution } from '../src/access/institutions.ts';
import { createWorkflow } from '../src/workflows/workflows.ts';
import { insertEnrollments } from '../src/workflows/triggers.ts';
import { runDueWorkflowSteps } from '../src/workflows/engine.ts';
import { buildLetheBundles, runWorkerOnce } from './worker-process.ts';
import { figure, type BenchFigure } from './result.ts';

/**
 * workflow.steps_per_s: ENROLLMENTS runs due at once, each one step that changes state (the run
 * moves on and completes, with its history line) and queues an email, run by the product's engine
 * (the worker tick's defaults: batches taken and run in one transaction each). Baseline: raw
 * inserts of the same effects (outbox row, history row, enrollment update) in transactions of
 * 1,000 on the same store. SQLite always; PostgreSQL when BENCH_DATABASE_URL (or
 * TEST_DATABASE_URL) names a server: a scratch database is created and dropped.
 *
 * workflow.worker_peak_rss_mb: the same due runs again, run by a real `lethe worker --once`
 * process (the bundle, no TypeScript loader, no set-up data in its heap); its peak RSS (VmHWM)
 * beside the peak of the same command with nothing due.
 */
const ENROLLMENTS = Number(process.env.BENCH_WORKFLOW_ENROLLMENTS ?? 100_000);
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const CLOCK_START = '2026-01-01T00:00:00.000Z';

interface Target {
  engine: 'sqlite' | 'postgres';
  store: Store;
  dataDir: string;
  /** what a child process needs to open the same store (PostgreSQL: its URL) */
  databaseUrl?: string;
}

async function contextFor(t: Target): Promise<AppContext> {
  const config = loadConfig({ LETHE_DATA_DIR: t.dataDir, LETHE_SECRET: SECRET, LOG_LEVEL: 'silent' });
  return openContext(config, { clock: new ManualClock(CLOCK_START), store: t.store, log: pino({ level: 'silent' }) });
}

interface Prepared {
  institutionId: string;
  workflowId: string;
}

/** An institution, ENROLLMENTS contacts (raw inserts) and a due enrollment each in a one-step workflow. */
async function prepare(ctx: AppContext): Promise<Prepared> {
  const slug = `bench-${newId().slice(-8)}`;
  const inst = await createInstitution(ctx, { name: 'Bench', slug, organizations: [{ name: 'Org', tier: 'enterprise', emailDomains: [] }], admin: { email: `admin@${slug}.example`, name: 'Admin', password: 'correct horse battery staple' } }, systemActor);
  const wf = await createWorkflow(ctx, inst.institutionId, { name: 'bench', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'marketing', subject: 'Hi {{firstName}}', text: 'Hello {{fullName}}' } }] }, systemActor);
  const now = ctx.clock.now().toISOString();
  // A thousand at a time, so the set-up holds no list of all contacts.
  for (let i = 0; i < ENROLLMENTS; i += 1000) {
    const contactIds = Array.from({ length: Math.min(1000, ENROLLMENTS - i) }, () => newId());
    await ctx.db
      .insertInto('contacts')
      .values(
        contactIds.map((id, j) => ({
          id, institution_id: inst.institutionId, organization_id: null, first_name: 'Bench', last_name: `P${i + j}`, first_name_folded: 'bench', last_name_folded: `p${i + j}`,
          email: `p${i + j}@bench.example`, email_normalized: `p${i + j}@bench.example`, mobile_phone: null, mobile_e164: null, ssn_hash_full: null, ssn_hash_last6: null, ssn_hash_last4: null,
          employer_id: null, owner_user_id: null, visibility: 'everyone' as const, approval_status: 'approved' as const, source: 'api' as const, opt_in_status: 'opted_in' as const, opt_in_changed_at: now, created_at: now, updated_at: now,
        })),
      )
      .execute();
    await insertEnrollments(ctx.db, contactIds.map((contactId) => ({ institutionId: inst.institutionId, workflowId: wf.id, version: 1, contactId, trigger: 'manual', at: now })));
  }
  return { institutionId: inst.institutionId, workflowId: wf.id };
}

/**
 * Puts the store back as `prepare` left it: every run due at its first step, none of the effects
 * of a previous pass (emails, history lines). Each measurement starts from the same tables.
 */
async function reset(ctx: AppContext, p: Prepared): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('outbox_messages').where('institution_id', '=', p.institutionId).execute();
    await sql`delete from workflow_step_runs where enrollment_id in (select id from workflow_enrollments where workflow_id = ${p.workflowId})`.execute(trx);
    await sql`update workflow_enrollments set state = 'active', open = 1, step_id = null, next_run_at = ${CLOCK_START}, finished_at = null, lease_owner = null, lease_expires_at = null where workflow_id = ${p.workflowId}`.execute(trx);
  });
}

/** The product's engine, in this process, as the worker tick calls it (default batch), until nothing is due. */
async function product(ctx: AppContext): Promise<number> {
  const started = performance.now();
  let ran = 0;
  for (let n; (n = await runDueWorkflowSteps(ctx, { limit: 10_000 })) > 0; ) ran += n;
  if (ran !== ENROLLMENTS) throw new Error(`the engine ran ${ran} steps, expected ${ENROLLMENTS}`);
  return ran / ((performance.now() - started) / 1000);
}

/** The same rows the engine writes, as bare statements. */
async function baseline(ctx: AppContext, p: Prepared): Promise<number> {
  const now = ctx.clock.now().toISOString();
  const started = performance.now();
  let done = 0;
  for (let after = ''; ; ) {
    const part = await ctx.db.selectFrom('workflow_enrollments').select(['id', 'contact_id']).where('workflow_id', '=', p.workflowId).where('id', '>', after).orderBy('id').limit(1000).execute();
    if (part.length === 0) break;
    after = part[part.length - 1].id;
    await ctx.db.transaction().execute(async (trx) => {
      for (const e of part) {
        const id = newId();
        await trx.insertInto('outbox_messages').values({ id, institution_id: p.institutionId, contact_id: e.contact_id, category: 'marketing', template: 'bench', to_address: 'x@bench.example', subject: 'Hi', text_body: 'Hello', html_body: '<p>Hello</p>', message_id: `<${id}@bench>`, status: 'pending', attempts: 0, next_attempt_at: now, lease_expires_at: null, last_error: null, created_at: now, sent_at: null }).execute();
        await trx.insertInto('workflow_step_runs').values({ id: newId(), enrollment_id: e.id, step_id: 's1', step_type: 'send_email', attempt: 1, outcome: 'done', detail: 'queued', ran_at: now }).execute();
        await trx.updateTable('workflow_enrollments').set({ state: 'completed', open: null, step_id: null, next_run_at: null, finished_at: now }).where('id', '=', e.id).execute();
      }
    });
    done += part.length;
  }
  return done / ((performance.now() - started) / 1000);
}

const workerOnce = (t: Target) => runWorkerOnce({ dataDir: t.dataDir, secret: SECRET, databaseUrl: t.databaseUrl });

async function stillDue(ctx: AppContext, p: Prepared): Promise<number> {
  const row = await ctx.db.selectFrom('workflow_enrollments').select((eb) => eb.fn.countAll<number>().as('n')).where('workflow_id', '=', p.workflowId).where('state', '=', 'active').executeTakeFirstOrThrow();
  return Number(row.n);
}

async function measure(t: Target): Promise<BenchFigure[]> {
  const ctx = await contextFor(t);
  const p = await prepare(ctx);
  const rate = await product(ctx);
  process.stderr.write(`${t.engine}: ${ENROLLMENTS} steps at ${Math.round(rate)}/s in this process\n`);

  // Every run is complete and the emails cleared: the worker process finds nothing to do. Then
  // the same runs again, due for it too (it runs on the real clock, which is past the bench's).
  await reset(ctx, p);
  await sql`update workflow_enrollments set next_run_at = '2999-01-01T00:00:00.000Z' where workflow_id = ${p.workflowId}`.execute(ctx.db);
  const idle = await workerOnce(t);
  await reset(ctx, p);
  const run = await workerOnce(t);
  const left = await stillDue(ctx, p);
  process.stderr.write(`${t.engine}: worker process ran ${ENROLLMENTS - left} steps in ${run.seconds.toFixed(1)} s (start-up included), peak RSS ${run.peakRssMb} MB; with nothing due ${idle.peakRssMb} MB\n`);
  if (left) throw new Error(`${left} runs were still due after lethe worker --once`);

  await reset(ctx, p);
  const base = await baseline(ctx, p);
  await t.store.close();
  return [
    figure(`workflow.steps_per_s.${t.engine}`, rate, 'steps/s', base, { enrollments: ENROLLMENTS, target: t.engine === 'sqlite' ? 10_000 : undefined, workerProcessSeconds: Math.round(run.seconds * 10) / 10 }),
    figure(`workflow.worker_peak_rss_mb.${t.engine}`, run.peakRssMb, 'MB', idle.peakRssMb, { enrollments: ENROLLMENTS, target: '<= 200 MB, flat', baselineIs: 'the same `lethe worker --once` with nothing due' }),
  ];
}

/** A scratch PostgreSQL database on the server `adminUrl` names, dropped after `use`. */
async function withScratchDatabase<T>(adminUrl: string, use: (url: string) => Promise<T>): Promise<T> {
  const name = `lethe_bench_wf_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await use(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

export async function run(): Promise<BenchFigure[]> {
  // Build the bundle `lethe worker` runs once, before anything is measured.
  buildLetheBundles();
  const figures: BenchFigure[] = [];
  const sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-workflow-'));
  try {
    figures.push(...(await measure({ engine: 'sqlite', store: openSqlite(path.join(sqliteDir, 'lethe.db')), dataDir: sqliteDir })));
  } finally {
    fs.rmSync(sqliteDir, { recursive: true, force: true });
  }
  const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (adminUrl) {
    const pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-workflow-pg-'));
    try {
      figures.push(...(await withScratchDatabase(adminUrl, (url) => measure({ engine: 'postgres', store: openPostgres(url, 5), dataDir: pgDir, databaseUrl: url }))));
    } finally {
      fs.rmSync(pgDir, { recursive: true, force: true });
    }
  } else {
    process.stderr.write('workflow: PostgreSQL not measured (set BENCH_DATABASE_URL or TEST_DATABASE_URL)\n');
  }
  return figures;
}
