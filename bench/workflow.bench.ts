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
import { figure, type BenchFigure } from './result.ts';

/**
 * workflow.steps_per_s: ENROLLMENTS runs due at once, each one step that changes state (the run
 * moves on and completes, with its history line) and queues an email, run by the product's engine
 * (leased claims, a transaction per step). Baseline: raw inserts of the same effects (outbox row,
 * history row, enrollment update) in transactions of 1,000 on the same store. SQLite always;
 * PostgreSQL when BENCH_DATABASE_URL names a server (a scratch database is created and dropped).
 * Also reports the worker's peak RSS.
 */
const ENROLLMENTS = Number(process.env.BENCH_WORKFLOW_ENROLLMENTS ?? 100_000);
const SECRET = 'bench-secret-0123456789abcdef0123456789';

async function contextFor(store: Store, dataDir: string): Promise<AppContext> {
  const config = loadConfig({ LETHE_DATA_DIR: dataDir, LETHE_SECRET: SECRET, LOG_LEVEL: 'silent' });
  return openContext(config, { clock: new ManualClock('2026-01-01T00:00:00.000Z'), store, log: pino({ level: 'silent' }) });
}

/** An institution, ENROLLMENTS contacts (raw inserts) and a due enrollment each in a one-step workflow. */
async function prepare(ctx: AppContext): Promise<{ institutionId: string; workflowId: string; contactIds: string[] }> {
  const slug = `bench-${newId().slice(-8)}`;
  const inst = await createInstitution(ctx, { name: 'Bench', slug, organizations: [{ name: 'Org', tier: 'enterprise', emailDomains: [] }], admin: { email: `admin@${slug}.example`, name: 'Admin', password: 'correct horse battery staple' } }, systemActor);
  const now = ctx.clock.now().toISOString();
  const contactIds = Array.from({ length: ENROLLMENTS }, () => newId());
  for (let i = 0; i < contactIds.length; i += 1000) {
    await ctx.db
      .insertInto('contacts')
      .values(
        contactIds.slice(i, i + 1000).map((id, j) => ({
          id, institution_id: inst.institutionId, organization_id: null, first_name: 'Bench', last_name: `P${i + j}`, first_name_folded: 'bench', last_name_folded: `p${i + j}`,
          email: `p${i + j}@bench.example`, email_normalized: `p${i + j}@bench.example`, mobile_phone: null, mobile_e164: null, ssn_hash_full: null, ssn_hash_last6: null, ssn_hash_last4: null,
          employer_id: null, owner_user_id: null, visibility: 'everyone' as const, approval_status: 'approved' as const, source: 'api' as const, opt_in_status: 'opted_in' as const, opt_in_changed_at: now, created_at: now, updated_at: now,
        })),
      )
      .execute();
  }
  const wf = await createWorkflow(ctx, inst.institutionId, { name: 'bench', trigger: { type: 'manual' }, steps: [{ type: 'send_email', send_email: { category: 'marketing', subject: 'Hi {{firstName}}', text: 'Hello {{fullName}}' } }] }, systemActor);
  return { institutionId: inst.institutionId, workflowId: wf.id, contactIds };
}

async function enroll(ctx: AppContext, p: Awaited<ReturnType<typeof prepare>>): Promise<void> {
  const at = ctx.clock.now().toISOString();
  for (let i = 0; i < p.contactIds.length; i += 5000) {
    await insertEnrollments(ctx.db, p.contactIds.slice(i, i + 5000).map((contactId) => ({ institutionId: p.institutionId, workflowId: p.workflowId, version: 1, contactId, trigger: 'manual', at })));
  }
}

/** The same rows the engine writes, as bare statements. */
async function baseline(ctx: AppContext, p: Awaited<ReturnType<typeof prepare>>): Promise<number> {
  const ids = await ctx.db.selectFrom('workflow_enrollments').select(['id', 'contact_id']).where('workflow_id', '=', p.workflowId).execute();
  const now = ctx.clock.now().toISOString();
  const started = performance.now();
  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    await ctx.db.transaction().execute(async (trx) => {
      for (const e of part) {
        const id = newId();
        await trx.insertInto('outbox_messages').values({ id, institution_id: p.institutionId, contact_id: e.contact_id, category: 'marketing', template: 'bench', to_address: 'x@bench.example', subject: 'Hi', text_body: 'Hello', html_body: '<p>Hello</p>', message_id: `<${id}@bench>`, status: 'pending', attempts: 0, next_attempt_at: now, lease_expires_at: null, last_error: null, created_at: now, sent_at: null }).execute();
        await trx.insertInto('workflow_step_runs').values({ id: newId(), enrollment_id: e.id, step_id: 's1', step_type: 'send_email', attempt: 1, outcome: 'done', detail: 'queued', ran_at: now }).execute();
        await trx.updateTable('workflow_enrollments').set({ state: 'completed', open: null, step_id: null, next_run_at: null, finished_at: now }).where('id', '=', e.id).execute();
      }
    });
  }
  return ids.length / ((performance.now() - started) / 1000);
}

async function measure(engine: 'sqlite' | 'postgres', store: Store, dataDir: string): Promise<BenchFigure[]> {
  const ctx = await contextFor(store, dataDir);
  const p = await prepare(ctx);
  await enroll(ctx, p);
  const rssAtStart = process.memoryUsage().rss;
  let peakRss = rssAtStart;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = performance.now();
  let ran = 0;
  for (let n; (n = await runDueWorkflowSteps(ctx, { limit: 10_000, batch: 200 })) > 0; ) ran += n;
  const rate = ran / ((performance.now() - started) / 1000);
  clearInterval(sampler);
  process.stderr.write(`${engine}: ${ran} steps at ${Math.round(rate)}/s, peak RSS ${Math.round(peakRss / 2 ** 20)} MB\n`);
  // The baseline reruns the same effects on a reset copy of the enrollments.
  await sql`update workflow_enrollments set state = 'active', open = 1, step_id = null, next_run_at = ${ctx.clock.now().toISOString()} where workflow_id = ${p.workflowId}`.execute(ctx.db);
  const base = await baseline(ctx, p);
  await store.close();
  return [
    figure(`workflow.steps_per_s.${engine}`, rate, 'steps/s', base, { enrollments: ENROLLMENTS, target: 10_000 }),
    figure(`workflow.worker_peak_rss_mb.${engine}`, Math.round(peakRss / 2 ** 20), 'MB', Math.round(rssAtStart / 2 ** 20), { target: '<= 200 MB', baselineIs: 'the same process before the steps ran (modules, data set up)' }),
  ];
}

export async function run(): Promise<BenchFigure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-workflow-'));
  const figures: BenchFigure[] = [];
  try {
    figures.push(...(await measure('sqlite', openSqlite(path.join(dir, 'lethe.db')), dir)));
    const adminUrl = process.env.BENCH_DATABASE_URL;
    if (adminUrl) {
      const name = `lethe_bench_wf_${Date.now()}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      try {
        figures.push(...(await measure('postgres', openPostgres(url.toString(), 5), dir)));
      } finally {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
