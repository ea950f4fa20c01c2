import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { openContext } from '../src/runtime.ts';
import { buildApp } from '../src/http/app.ts';
import { createInstitution } from '../src/access/institutions.ts';
import { systemActor } from '../src/audit/audit-log.ts';
import { applyBody } from '../src/intake/apply.ts';
import { createForm } from '../src/intake/forms.ts';
import { writeIntakeSettings } from '../src/intake/settings.ts';
import { bareInsertRoute } from './bare-route.ts';
import { figure, type BenchFigure } from './result.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_APPLY_CONNECTIONS ?? 100);
/** Offered load of the figure: each of the 100 connections sends one application per second. */
const RATE = Number(process.env.BENCH_APPLY_RATE ?? CONCURRENCY);
/** Sent at the same rate before the measured seconds and not counted: steady state is what the figure is about. */
const WARMUP_SECONDS = Number(process.env.BENCH_APPLY_WARMUP_SECONDS ?? 3);

type Load = { ok: number; failed: number; rps: number; p50: number; p99: number };

/** `rate` 0: closed loop (every connection sends again as soon as it is answered), which measures saturation. */
async function load(url: string, rate: number): Promise<Load> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.resolve('bench/apply-loadgen.mjs'), url, String(SECONDS), String(CONCURRENCY), String(rate), String(WARMUP_SECONDS)]);
  if (stderr) process.stderr.write(stderr);
  return JSON.parse(stdout) as Load;
}

async function paceAndSaturate(url: string): Promise<{ paced: Load; saturated: Load }> {
  return { paced: await load(url, RATE), saturated: await load(url, 0) };
}

export async function run(): Promise<BenchFigure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-apply-'));
  try {
    const bare = await bareInsertRoute(path.join(dir, 'bare.db'), { path: '/apply', body: applyBody, approval: 'pending', source: 'application', answer: (id) => ({ status: 'received', applicationId: id }) });
    const baseline = await paceAndSaturate(bare.url);
    await bare.close();
    process.stderr.write(`baseline: ${JSON.stringify(baseline)}\n`);

    const ctx = await openContext(
      loadConfig({ LETHE_DATA_DIR: path.join(dir, 'lethe'), LOG_LEVEL: 'silent', LETHE_APPLY_RATE_LIMIT: '1000000' }),
      { log: pino({ level: 'silent' }) },
    );
    const tenant = await createInstitution(
      ctx,
      { name: 'Bench', slug: 'bench', organizations: [{ name: 'Org', tier: 'enterprise', emailDomains: [] }], admin: { email: 'admin@bench.example', name: 'Admin', password: 'bench-password-123' } },
      systemActor,
    );
    await writeIntakeSettings(ctx.db, tenant.institutionId, { duplicateRule: { identifier: 'email_or_mobile', lastName: true, ssn: 'none' }, defaultRegion: 'US' });
    const form = await createForm(ctx, tenant.institutionId, systemActor, {
      name: 'Careers',
      organizationId: tenant.organizationIds[0],
      fields: [
        { field: 'firstName', required: true },
        { field: 'lastName', required: true },
        { field: 'email', required: true },
        { field: 'mobilePhone', required: false },
      ],
    });
    const app = await buildApp(ctx);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const lethe = await paceAndSaturate(`http://127.0.0.1:${port}/api/public/forms/${form.id}/apply`);
    const attached = await ctx.db.selectFrom('applications').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'attached').executeTakeFirstOrThrow();
    await app.close();
    await ctx.store.close();
    process.stderr.write(`lethe: ${JSON.stringify(lethe)}; attached to an existing profile: ${attached.n}\n`);
    if ([lethe.paced, lethe.saturated, baseline.paced, baseline.saturated].some((l) => l.failed)) throw new Error('requests failed during the benchmark; see above');

    const round = (n: number) => Math.round(n * 10) / 10;
    return [
      figure('apply.p99_ms', round(lethe.paced.p99), 'ms', round(baseline.paced.p99), {
        target: 'p99 <= 20 ms on SQLite',
        connections: CONCURRENCY,
        offeredPerSecond: RATE,
        seconds: SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        rps: round(lethe.paced.rps),
        p50_ms: round(lethe.paced.p50),
        baseline_p50_ms: round(baseline.paced.p50),
        attachedToExisting: Number(attached.n),
        productDoes:
          'form + settings read, validation against the form, normalisation (libphonenumber), duplicate check (Email OR Mobile + Last Name), contact row or attach, sealed application, activity, audit, one transaction',
        baselineIs: 'bare Fastify route, same zod body validation, one raw better-sqlite3 insert',
      }),
      figure('apply.saturated_rps', round(lethe.saturated.rps), 'req/s', round(baseline.saturated.rps), {
        connections: CONCURRENCY,
        seconds: SECONDS,
        p50_ms: round(lethe.saturated.p50),
        p99_ms: round(lethe.saturated.p99),
        baseline_p50_ms: round(baseline.saturated.p50),
        baseline_p99_ms: round(baseline.saturated.p99),
        loadIs: 'closed loop: every connection sends its next application as soon as the last is answered',
      }),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
