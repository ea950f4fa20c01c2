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
import { issueApiToken } from '../src/access/api-tokens.ts';
import { systemActor } from '../src/audit/audit-log.ts';
import { createContactBody } from '../src/contacts/contact-schemas.ts';
import { bareInsertRoute } from './bare-route.ts';
import { figure, type BenchFigure } from './result.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = 16;
/** Sent before the measured seconds and not counted, for the baseline and the product alike. */
const WARMUP_SECONDS = 2;

async function load(url: string, headers: Record<string, string>) {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.resolve('bench/loadgen.mjs'), url, String(SECONDS), String(CONCURRENCY), JSON.stringify(headers), String(WARMUP_SECONDS)]);
  if (stderr) process.stderr.write(stderr);
  return JSON.parse(stdout) as { ok: number; failed: number; rps: number; p50: number; p99: number };
}

export async function run(): Promise<BenchFigure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-create-'));
  try {
    const bare = await bareInsertRoute(path.join(dir, 'bare.db'), { path: '/contacts', body: createContactBody, approval: 'approved', source: 'api', answer: (id) => ({ id }) });
    const baseline = await load(bare.url, {});
    await bare.close();
    process.stderr.write(`baseline: ${JSON.stringify(baseline)}\n`);

    const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: path.join(dir, 'lethe'), LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }) });
    const tenant = await createInstitution(
      ctx,
      { name: 'Bench', slug: 'bench', organizations: [{ name: 'Org', tier: 'enterprise', emailDomains: [] }], admin: { email: 'admin@bench.example', name: 'Admin', password: 'bench-password-123' } },
      systemActor,
    );
    const token = await issueApiToken(ctx, { institutionId: tenant.institutionId, userId: tenant.adminUserId, name: 'bench' }, systemActor);
    const app = await buildApp(ctx);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const lethe = await load(`http://127.0.0.1:${port}/api/contacts`, { authorization: `Bearer ${token.token}` });
    await app.close();
    await ctx.store.close();
    process.stderr.write(`lethe: ${JSON.stringify(lethe)}\n`);
    if (lethe.failed || baseline.failed) throw new Error('requests failed during the benchmark; see above');

    return [
      figure('contacts.create_rps', lethe.rps, 'req/s', baseline.rps, {
        target: 'ratio >= 0.5',
        concurrency: CONCURRENCY,
        seconds: SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        p99_ms: Math.round(lethe.p99 * 10) / 10,
        baseline_p99_ms: Math.round(baseline.p99 * 10) / 10,
        productDoes: 'token auth, validation, normalisation, contact row, activity event, sealed audit entry in one transaction',
        baselineIs: 'bare Fastify route, same zod validation, one raw better-sqlite3 insert',
      }),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
