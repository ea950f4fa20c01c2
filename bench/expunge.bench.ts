import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { openSqlite } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openContext } from '../src/runtime.ts';
import { newId } from '../src/ids.ts';
import { systemActor } from '../src/audit/audit-log.ts';
import { systemViewer } from '../src/contacts/visibility.ts';
import { foldName } from '../src/contacts/normalize.ts';
import { seal } from '../src/security/aead.ts';
import { secretsFrom } from '../src/security/server-secret.ts';
import { BULK_JOB_KIND, runBulkJob, startBulkJob } from '../src/lifecycle/bulk/bulk-job.ts';
import { BULK_CACHE_KIB, BULK_WAL_AUTOCHECKPOINT } from '../src/db/bulk-writing.ts';
import { claimNextJob, completeJob } from '../src/jobs/queue.ts';
import { figure, type BenchFigure } from './result.ts';

/**
 * expunge.per_s: expunging EXPUNGE contacts, each with related records (employment, two attribute
 * values, consent, a note, a meeting, a task, five activity events, two sealed audit entries, a
 * data key, a pending email, a stored idempotent response), out of STORE contacts, through the
 * product's bulk expunge job: confirmation emails queued, the key destroyed, one audit entry and
 * one webhook event per contact, then the WAL checkpoint that makes it final. Baseline: raw
 * DELETEs of the same rows from each table in one transaction plus the same checkpoint, on an
 * identical copy.
 */

const EXPUNGE = Number(process.env.BENCH_EXPUNGE_CONTACTS ?? 10_000);
const STORE = Number(process.env.BENCH_EXPUNGE_STORE ?? 5 * EXPUNGE);
const SECRET = 'bench-secret-0123456789abcdef0123456789';

interface Generated {
  institutionId: string;
  targets: string[];
}

/** Raw set-up: the contacts and everything attached to them (every STORE/EXPUNGE-th one is a target). */
async function generate(file: string): Promise<Generated> {
  const store = openSqlite(file);
  await migrateToLatest(store);
  await store.close();
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const now = '2026-01-01T00:00:00.000Z';
  const master = secretsFrom(SECRET).masterKey;
  const institutionId = newId();
  const orgId = newId();
  const employerId = newId();
  const cohortId = newId();
  const nickId = newId();
  db.prepare(`insert into institutions (id, name, slug, settings, created_at) values (?, 'Bench', 'bench', '{}', ?)`).run(institutionId, now);
  db.prepare(`insert into organizations (id, institution_id, name, tier, email_domains, created_at) values (?, ?, 'Org', 'enterprise', '[]', ?)`).run(orgId, institutionId, now);
  db.prepare(`insert into employers (id, institution_id, name, name_folded, created_at) values (?, ?, 'Acme', 'acme', ?)`).run(employerId, institutionId, now);
  const def = db.prepare(`insert into attribute_definitions (id, institution_id, key, label, type, options, created_at) values (?, ?, ?, ?, 'text', null, ?)`);
  def.run(cohortId, institutionId, 'cohort', 'Cohort', now);
  def.run(nickId, institutionId, 'nickname', 'Nickname', now);
  db.prepare(`insert into audit_chain_heads (chain, last_seq, last_hash, anchor_hash) values (?, 0, 'genesis', 'genesis')`).run(institutionId);

  const ins = {
    contact: db.prepare(`insert into contacts (id, institution_id, organization_id, first_name, last_name, first_name_folded, last_name_folded, email, email_normalized, mobile_phone, mobile_e164, employer_id, visibility, approval_status, source, opt_in_status, created_at, updated_at)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'everyone', 'approved', 'manual', 'opted_in', ?, ?)`),
    employment: db.prepare(`insert into contact_employments (id, institution_id, contact_id, employer_id, started_at, ended_at) values (?, ?, ?, ?, ?, null)`),
    value: db.prepare(`insert into contact_attribute_values (contact_id, attribute_id, institution_id, value_text, value_number) values (?, ?, ?, ?, null)`),
    consent: db.prepare(`insert into contact_authorizations (contact_id, institution_id, purpose, granted, updated_at) values (?, ?, 'newsletter', 1, ?)`),
    note: db.prepare(`insert into contact_notes (id, institution_id, contact_id, author_user_id, body, created_at, updated_at) values (?, ?, ?, null, ?, ?, ?)`),
    meeting: db.prepare(`insert into contact_meetings (id, institution_id, contact_id, author_user_id, title, scheduled_at, notes, created_at, updated_at) values (?, ?, ?, null, ?, ?, null, ?, ?)`),
    task: db.prepare(`insert into contact_tasks (id, institution_id, contact_id, author_user_id, title, due_at, done, created_at, updated_at) values (?, ?, ?, null, ?, null, 0, ?, ?)`),
    event: db.prepare(`insert into activity_events (institution_id, contact_id, organization_id, actor_user_id, type, occurred_at, data) values (?, ?, ?, null, ?, ?, '{}')`),
    key: db.prepare(`insert into data_keys (subject_id, institution_id, wrapped_key, created_at) values (?, ?, ?, ?)`),
    audit: db.prepare(`insert into audit_log (chain, institution_id, actor_user_id, actor_label, action, target_type, target_id, subject_id, before_enc, after_enc, meta, occurred_at, prev_hash, hash)
      values (?, ?, null, 'system', ?, 'contact', ?, ?, null, ?, null, ?, ?, ?)`),
    mail: db.prepare(`insert into outbox_messages (id, institution_id, contact_id, category, template, to_address, subject, text_body, html_body, message_id, status, attempts, next_attempt_at, created_at)
      values (?, ?, ?, 'marketing', 'newsletter', ?, 'News', 'Hello', '<p>Hello</p>', ?, 'pending', 0, ?, ?)`),
    idem: db.prepare(`insert into idempotency_keys (scope, key, request_hash, status_code, resource_id, response_body, created_at) values (?, ?, 'h', 201, ?, ?, ?)`),
  };
  const targets: string[] = [];
  const every = Math.max(1, Math.floor(STORE / EXPUNGE));
  const chunk = 5000;
  let prev = 'genesis';
  for (let from = 0; from < STORE; from += chunk) {
    db.transaction(() => {
      for (let i = from; i < Math.min(STORE, from + chunk); i++) {
        const id = newId(Date.parse(now) + i);
        const target = i % every === 0 && targets.length < EXPUNGE;
        if (target) targets.push(id);
        const first = `First${i}`;
        const last = `Person${i}`;
        const email = `person${i}@bench${i % 97}.org`;
        ins.contact.run(id, institutionId, orgId, first, last, foldName(first), foldName(last), email, email, `+4179${String(1_000_000 + i)}`, `+4179${String(1_000_000 + i)}`, employerId, now, now);
        ins.employment.run(newId(), institutionId, id, employerId, now);
        ins.value.run(id, cohortId, institutionId, target ? 'expunge' : 'keep');
        ins.value.run(id, nickId, institutionId, `Nick${i}`);
        ins.consent.run(id, institutionId, now);
        ins.note.run(newId(), institutionId, id, `Met person ${i} at the fair; follow up about the internship.`, now, now);
        ins.meeting.run(newId(), institutionId, id, `Interview ${i}`, now, now, now);
        ins.task.run(newId(), institutionId, id, `Call back ${i}`, now, now);
        for (const type of ['contact.created', 'note.added', 'meeting.added', 'task.added', 'contact.updated']) ins.event.run(institutionId, id, orgId, type, now);
        const key = randomBytes(32);
        ins.key.run(id, institutionId, seal(master, key, id), now);
        for (const action of ['contact.create', 'contact.update']) {
          const hash = randomBytes(32).toString('hex');
          ins.audit.run(institutionId, institutionId, action, id, id, seal(key, JSON.stringify({ firstName: first, lastName: last, email }), id), now, prev, hash);
          prev = hash;
        }
        ins.mail.run(newId(), institutionId, id, email, `<${newId()}@lethe.local>`, now, now);
        ins.idem.run(`${institutionId}:u:POST /api/contacts`, `k${i}`, id, JSON.stringify({ id, firstName: first, lastName: last, email }), now);
      }
    })();
  }
  db.prepare(`update audit_chain_heads set last_seq = (select max(seq) from audit_log), last_hash = ? where chain = ?`).run(prev, institutionId);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { institutionId, targets };
}

/** The bare storage work: the same rows deleted from each table, one transaction, then the checkpoint. */
function baseline(file: string, targets: string[]): number {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('secure_delete = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma(`wal_autocheckpoint = ${BULK_WAL_AUTOCHECKPOINT}`);
  db.pragma(`cache_size = -${BULK_CACHE_KIB}`);
  const t = performance.now();
  db.transaction(() => {
    for (let i = 0; i < targets.length; i += 500) {
      const part = targets.slice(i, i + 500);
      const list = part.map(() => '?').join(',');
      for (const table of ['contact_employments', 'contact_attribute_values', 'contact_authorizations', 'contact_notes', 'contact_meetings', 'contact_tasks', 'activity_events', 'outbox_messages']) {
        db.prepare(`delete from ${table} where contact_id in (${list})`).run(...part);
      }
      db.prepare(`delete from idempotency_keys where resource_id in (${list})`).run(...part);
      db.prepare(`delete from data_keys where subject_id in (${list})`).run(...part);
      db.prepare(`delete from contacts where id in (${list})`).run(...part);
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const seconds = (performance.now() - t) / 1000;
  db.close();
  return seconds;
}

export async function run(): Promise<BenchFigure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-expunge-'));
  try {
    const pristine = path.join(dir, 'pristine.db');
    process.stderr.write(`generating ${STORE} contacts with related records, ${EXPUNGE} to expunge…\n`);
    const { institutionId, targets } = await generate(pristine);
    const baseFile = path.join(dir, 'baseline.db');
    const productDir = path.join(dir, 'lethe');
    fs.mkdirSync(productDir);
    fs.copyFileSync(pristine, baseFile);
    fs.copyFileSync(pristine, path.join(productDir, 'lethe.db'));

    const baselineSeconds = baseline(baseFile, targets);
    process.stderr.write(`baseline: ${targets.length} contacts in ${baselineSeconds.toFixed(2)} s\n`);

    const store = openSqlite(path.join(productDir, 'lethe.db'));
    const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: productDir, LETHE_SECRET: SECRET, LOG_LEVEL: 'silent' }), { store, log: pino({ level: 'silent' }) });
    const t = performance.now();
    const started = await startBulkJob(
      ctx,
      institutionId,
      { viewer: systemViewer, actor: systemActor, via: 'bulk' },
      { attributes: [{ key: 'cohort', op: 'eq', values: ['expunge'] }] },
      { action: 'expunge', reason: 'retention', notify: true },
    );
    const job = (await claimNextJob(ctx, 'bench', [BULK_JOB_KIND], 600_000))!;
    const report = await runBulkJob(ctx, job, { workerId: 'bench', checkpoint: () => null, progress: async () => {} });
    await completeJob(ctx, job.id, 'bench', report);
    const productSeconds = (performance.now() - t) / 1000;
    process.stderr.write(`lethe: ${report.changed} expunged in ${productSeconds.toFixed(2)} s\n`);
    if (report.changed !== targets.length || started.count !== targets.length) throw new Error(`expected ${targets.length} expunged, got ${JSON.stringify(report)}`);
    const left = await ctx.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await store.close();
    const walBytes = fs.existsSync(path.join(productDir, 'lethe.db-wal')) ? fs.statSync(path.join(productDir, 'lethe.db-wal')).size : 0;

    return [
      figure('expunge.per_s', targets.length / productSeconds, 'contacts/s', targets.length / baselineSeconds, {
        expunged: targets.length,
        contactsBefore: STORE,
        contactsAfter: Number(left.n),
        walBytesAfter: walBytes,
        seconds: Math.round(productSeconds * 100) / 100,
        baseline_seconds: Math.round(baselineSeconds * 1000) / 1000,
        target: '>= 2000 contacts/s',
        productDoes: 'snapshot, 1,000-contact transactions: rows of every table (FK closure + events, mail, idempotency), data keys destroyed, confirmation email queued, 1 audit entry and 1 webhook event per contact; then the WAL checkpoint',
        baselineIs: 'raw DELETE of the same rows from each table in one transaction, then the same checkpoint',
      }),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
