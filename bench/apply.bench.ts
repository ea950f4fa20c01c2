import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { loadConfig } from '../src/config.ts';
import { openContext } from '../src/runtime.ts';
import { openSqlite } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { buildApp } from '../src/http/app.ts';
import { createInstitution } from '../src/access/institutions.ts';
import { systemActor } from '../src/audit/audit-log.ts';
import { applyBody } from '../src/intake/apply.ts';
import { createForm } from '../src/intake/forms.ts';
import { writeIntakeSettings } from '../src/intake/settings.ts';
import { newId } from '../src/ids.ts';
import { figure, type BenchFigure } from './result.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_APPLY_CONNECTIONS ?? 100);

async function load(url: string) {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.resolve('bench/apply-loadgen.mjs'), url, String(SECONDS), String(CONCURRENCY)]);
  if (stderr) process.stderr.write(stderr);
  return JSON.parse(stdout) as { ok: number; failed: number; rps: number; p50: number; p99: number };
}

/** The baseline: a bare Fastify route with the same zod body validation doing one raw insert. */
async function bareServer(file: string) {
  const store = openSqlite(file);
  await migrateToLatest(store);
  await store.close();
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const now = new Date().toISOString();
  db.prepare(`insert into institutions (id, name, slug, settings, created_at) values ('i', 'Bare', 'bare', '{}', ?)`).run(now);
  const insert = db.prepare(`insert into contacts (id, institution_id, first_name, last_name, first_name_folded, last_name_folded, email, email_normalized, mobile_phone, mobile_e164, visibility, approval_status, source, opt_in_status, created_at, updated_at)
    values (?, 'i', ?, ?, ?, ?, ?, ?, ?, ?, 'everyone', 'pending', 'application', 'unknown', ?, ?)`);
  const app = Fastify().withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.post('/apply', { schema: { body: applyBody } }, async (request, reply) => {
    const b = request.body;
    const at = new Date().toISOString();
    const id = newId(Date.parse(at));
    insert.run(id, b.firstName, b.lastName, b.firstName!.toLowerCase(), b.lastName!.toLowerCase(), b.email ?? null, b.email?.toLowerCase() ?? null, b.mobilePhone ?? null, b.mobilePhone ?? null, at, at);
    reply.code(201);
    return { status: 'received', applicationId: id };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/apply`, close: async () => (await app.close(), db.close()) };
}

export async function run(): Promise<BenchFigure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-apply-'));
  try {
    const bare = await bareServer(path.join(dir, 'bare.db'));
    const baseline = await load(bare.url);
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
    const lethe = await load(`http://127.0.0.1:${port}/api/public/forms/${form.id}/apply`);
    const attached = await ctx.db.selectFrom('applications').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'attached').executeTakeFirstOrThrow();
    await app.close();
    await ctx.store.close();
    process.stderr.write(`lethe: ${JSON.stringify(lethe)}; attached to an existing profile: ${attached.n}\n`);
    if (lethe.failed || baseline.failed) throw new Error('requests failed during the benchmark; see above');

    const round = (n: number) => Math.round(n * 10) / 10;
    return [
      figure('apply.p99_ms', round(lethe.p99), 'ms', round(baseline.p99), {
        target: 'p99 <= 20 ms on SQLite',
        connections: CONCURRENCY,
        seconds: SECONDS,
        rps: round(lethe.rps),
        p50_ms: round(lethe.p50),
        baseline_rps: round(baseline.rps),
        baseline_p50_ms: round(baseline.p50),
        attachedToExisting: Number(attached.n),
        productDoes:
          'form + settings read, validation against the form, normalisation (libphonenumber), duplicate check (Email OR Mobile + Last Name), contact row or attach, sealed application, activity, audit, one transaction',
        baselineIs: 'bare Fastify route, same zod body validation, one raw better-sqlite3 insert',
      }),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
