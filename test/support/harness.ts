import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import type { LightMyRequestResponse, InjectOptions } from 'fastify';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import { openPostgres, openSqlite, type EngineKind, type Store } from '../../src/db/connect.ts';
import { openContext } from '../../src/runtime.ts';
import { buildApp, type App } from '../../src/http/app.ts';
import { startLetheWorker } from '../../src/jobs/registry.ts';
import type { MailTransport } from '../../src/mail/transport.ts';
import { createInstitution, type CreatedInstitution } from '../../src/access/institutions.ts';
import { issueApiToken } from '../../src/access/api-tokens.ts';
import { systemActor } from '../../src/audit/audit-log.ts';
import { newId } from '../../src/ids.ts';
import { builtinRoleKeys, type BuiltinRoleKey } from '../../src/access/permissions.ts';
import { hashPassword } from '../../src/access/passwords.ts';
import { captureLogLine, markTestFile, notePii } from './log-capture.ts';

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';
export const TEST_PASSWORD = 'correct horse battery staple';

export interface TestDatabase {
  kind: EngineKind;
  store: Store;
  dataDir: string;
  /** a connection URL for child processes (PostgreSQL only) */
  url?: string;
  drop(): Promise<void>;
}

/** The engines this run can exercise: SQLite always, PostgreSQL when the global setup found one. */
export function availableEngines(): EngineKind[] {
  return inject('pgUrl') ? ['sqlite', 'postgres'] : ['sqlite'];
}

export async function createTestDatabase(kind: EngineKind): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-test-'));
  if (kind === 'sqlite') {
    const store = openSqlite(path.join(dataDir, 'lethe.db'));
    return { kind, store, dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  const adminUrl = inject('pgUrl');
  if (!adminUrl) throw new Error('PostgreSQL is not available in this run');
  const name = `lethe_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const store = openPostgres(url.toString(), 5);
  return {
    kind,
    store,
    dataDir,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface SeededUser {
  id: string;
  token: string;
}

export interface SeededTenant extends CreatedInstitution {
  admin: SeededUser;
  adminEmail: string;
}

/** One engine's database, context, clock and in-process app for a describe block. */
export class Harness {
  ctx!: AppContext;
  app!: App;
  clock = new ManualClock('2026-01-15T09:00:00.000Z');
  database!: TestDatabase;
  logLines: string[] = [];

  constructor(readonly kind: EngineKind) {}

  async start(): Promise<void> {
    this.database = await createTestDatabase(this.kind);
    const config = loadConfig({ LETHE_DATA_DIR: this.database.dataDir, LETHE_SECRET: TEST_SECRET, LOG_LEVEL: 'info' });
    // Every line also goes to the run's log folder, scanned for personal data after the run (log-scan-global-setup.ts).
    markTestFile();
    const sink = {
      write: (line: string) => {
        this.logLines.push(line);
        captureLogLine(line);
      },
    };
    this.ctx = await openContext(config, { clock: this.clock, store: this.database.store, log: pino({ level: 'info' }, sink) });
    this.app = await buildApp(this.ctx);
    await this.app.ready();
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.database?.store.close();
    await this.database?.drop();
  }

  /** A fresh institution with two organizations and an admin holding an API token. */
  async tenant(slug = `t-${randomBytes(4).toString('hex')}`): Promise<SeededTenant> {
    const adminEmail = `admin@${slug}.example.org`;
    notePii(adminEmail);
    const created = await createInstitution(
      this.ctx,
      {
        name: `Institution ${slug}`,
        slug,
        organizations: [
          { name: 'Career Services', tier: 'enterprise', emailDomains: [`${slug}.example.org`] },
          { name: 'Alumni', tier: 'scaled', emailDomains: [`${slug}.example.org`] },
        ],
        admin: { email: adminEmail, name: 'Admin', password: TEST_PASSWORD },
      },
      systemActor,
    );
    const issued = await issueApiToken(this.ctx, { institutionId: created.institutionId, userId: created.adminUserId, name: 'test' }, systemActor);
    return { ...created, adminEmail, admin: { id: created.adminUserId, token: issued.token } };
  }

  /** A user with a built-in role (or a given role id) and an API token. */
  async user(tenant: CreatedInstitution, role: BuiltinRoleKey | { roleId: string }, opts: { email?: string; organizationId?: string } = {}): Promise<SeededUser & { email: string }> {
    const id = newId();
    const email = opts.email ?? `${typeof role === 'string' ? role : 'custom'}-${randomBytes(3).toString('hex')}@example.org`;
    notePii(email);
    const now = this.clock.now().toISOString();
    await this.ctx.db
      .insertInto('users')
      .values({
        id,
        institution_id: tenant.institutionId,
        organization_id: opts.organizationId ?? tenant.organizationIds[0],
        email,
        name: email.split('@')[0],
        password_hash: await hashPassword(TEST_PASSWORD),
        role_id: typeof role === 'string' ? tenant.roleIds[role] : role.roleId,
        platform_role: null,
        site_access: 1,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const issued = await issueApiToken(this.ctx, { institutionId: tenant.institutionId, userId: id, name: 'test' }, systemActor);
    return { id, token: issued.token, email };
  }

  /** app.inject with a bearer token. */
  request(token: string | null, options: InjectOptions): Promise<LightMyRequestResponse> {
    return this.app.inject({
      ...options,
      headers: { ...(options.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    } as InjectOptions);
  }

  async count(table: string): Promise<number> {
    const row = await (this.ctx.db as any).selectFrom(table).select((eb: any) => eb.fn.countAll().as('n')).executeTakeFirst();
    return Number(row.n);
  }
}

export { builtinRoleKeys };

/** Runs the same tests against every available engine, each with its own fresh database. */
export function describeEachEngine(title: string, body: (h: Harness) => void): void {
  for (const kind of availableEngines()) {
    describe(`${title} [${kind}]`, () => {
      const h = new Harness(kind);
      beforeAll(() => h.start());
      afterAll(() => h.stop());
      body(h);
    });
  }
}

/** Runs the background worker (no mail transport) until no job is due, then stops it. */
/** Runs everything due, as `lethe worker --once` does: jobs, ticks and, with a transport, the outbox. */
export async function drainJobs(h: Harness, transport: MailTransport | null = null): Promise<void> {
  // No background loop: its own drain would run beside this one, and a job its tick queued just
  // as this drain found nothing left would stay queued when the worker stops (a rare failure).
  const worker = startLetheWorker(h.ctx, { transport, loop: false });
  try {
    await worker.drain();
  } finally {
    await worker.stop();
  }
}
