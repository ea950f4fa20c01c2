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
import { issueApiToken } from '../src/access/api-tokens.ts';
import { systemActor } from '../src/audit/audit-log.ts';
import { createContactBody } from '../src/contacts/contact-schemas.ts';
import { newId } from '../src/ids.ts';
import { figure, type BenchFigure } from './result.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = 16;

async function load(url: string, headers: Record<string, string>) {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.resolve('bench/loadgen.mjs'), url, String(SECONDS), String(CONCURRENCY), JSON.stringify(headers)]);
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
    values (?, 'i', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'approved', 'api', 'unknown', ?, ?)`);
  const app = Fastify().withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.post('/contacts', { schema: { body: createContactBody } }, async (request, reply) => {
    const b = request.body;
    const id = newId();
    const at = new Date().toISOString();
    insert.run(id, b.firstName, b.lastName, b.firstName.toLowerCase(), b.lastName.toLowerCase(), b.email ?? null, b.email?.toLowerCase() ?? null, b.mobilePhone ?? null, b.mobilePhone ?? null, b.visibility ?? 'everyone', at, at);
    reply.code(201);
    return { id };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/contacts`, close: async () => (await app.close(), db.close()) };
}

export async function run(): Promise<BenchFigure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-create-'));
  try {
    const bare = await bareServer(path.join(dir, 'bare.db'));
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
