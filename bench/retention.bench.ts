import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { openSqlite } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openContext } from '../src/runtime.ts';
import { ManualClock } from '../src/clock.ts';
import { newId } from '../src/ids.ts';
import { cliActor } from '../src/audit/audit-log.ts';
import { seal } from '../src/security/aead.ts';
import { secretsFrom } from '../src/security/server-secret.ts';
import { foldName } from '../src/contacts/normalize.ts';
import { claimNextJob, completeJob } from '../src/jobs/queue.ts';
import type { AppContext } from '../src/context.ts';
import { rebuildRecency } from '../src/retention/recency-rebuild.ts';
import { inactivityCutoff } from '../src/retention/recency-rules.ts';
import { INACTIVE_JOB_KIND, startInactiveRun } from '../src/retention/inactive-runs.ts';
import { runInactiveJob } from '../src/retention/inactive-job.ts';
import { cachedMeta, emailOf, freshBenchDatabase, lastNameOf, programs, rng } from './generate-contacts.ts';
import { figure, type BenchFigure } from './result.ts';
import { BULK_CACHE_KIB, BULK_WAL_AUTOCHECKPOINT } from '../src/db/bulk-writing.ts';

/**
 * Issue #6's figures, on SQLite, on one generated data set:
 *
 * - recency.rebuild_events_per_s: the product's rebuild (`lethe recency rebuild`, rebuildRecency)
 *   over EVENTS activity events and orders. Baseline: one raw `insert … select max(at) … group by
 *   contact_id` over the same events.
 * - retention.simulate_s: the inactive batch run as a simulation (what `lethe batch inactive` does
 *   without --execute: start the run, then its job snapshots the set and writes the report) over
 *   CONTACTS contacts. Baseline: the raw count of inactive contacts by outcome over the recency column.
 * - retention.anonymise_per_s: the same batch executed, on INACTIVE inactive contacts, all of them
 *   customers (they have an order) with an audit entry and a data key. Baseline: raw UPDATEs blanking
 *   the same contact columns, one transaction, on a separate copy of the same file.
 */

const CONTACTS = Number(process.env.BENCH_RETENTION_CONTACTS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_RETENTION_EVENTS ?? 5_000_000);
const INACTIVE = Number(process.env.BENCH_RETENTION_INACTIVE ?? 200_000);
/** BENCH_RETENTION_ANONYMISE=0 leaves out the execution (the longest part) while iterating on the other two. */
const ANONYMISE = process.env.BENCH_RETENTION_ANONYMISE !== '0';
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const MONTHS = 36;
/** The bench's clock: every date of the data set is placed relative to it. */
const AS_OF = '2026-01-01T00:00:00.000Z';
const CUTOFF = inactivityCutoff(new Date(AS_OF), MONTHS).toISOString();
const DAY = 86_400_000;
const firstNames = ['Ada', 'Björn', 'Chloé', 'Dmitri', 'Émile', 'Farah', 'Grace', 'Hiro', 'Inès', 'José', 'Kofi', 'Léa', 'Mateo', 'Nia', 'Olga', 'Priya'];

interface Generated {
  count: number;
  institutionId: string;
  organizationId: string;
  /** rows of each kind, for the detail */
  orders: number;
  activity: number;
}

/** Exactly INACTIVE of the CONTACTS indexes, spread evenly. */
const isInactive = (i: number) => Math.floor(((i + 1) * INACTIVE) / CONTACTS) > Math.floor((i * INACTIVE) / CONTACTS);

/**
 * CONTACTS contacts (created over five years before AS_OF, inserted in creation order, a "program"
 * attribute each) and EVENTS events feeding recency: orders (order + purchase contact + one line,
 * one in ten with beneficiary names), link clicks, criterion changes and granted authorizations.
 * Event j < CONTACTS belongs to contact j, so every contact has at least one: an inactive contact's
 * first is an order (it is a customer), every date of an inactive contact is before the cutoff, and
 * an active contact's first event is within the last 30 months. The others go to random contacts.
 * The inactive contacts also get a sealed-key data key and one audit entry (raw rows on the chain).
 */
async function generate(file: string): Promise<Generated> {
  const cached = cachedMeta<Generated>(file, CONTACTS);
  if (cached) return cached;
  if (EVENTS < CONTACTS) throw new Error(`BENCH_RETENTION_EVENTS (${EVENTS}) must be at least BENCH_RETENTION_CONTACTS (${CONTACTS})`);
  if (INACTIVE > CONTACTS) throw new Error(`BENCH_RETENTION_INACTIVE (${INACTIVE}) must be at most BENCH_RETENTION_CONTACTS (${CONTACTS})`);
  const { db, institutionId, organizationId, attributeId } = await freshBenchDatabase(file);
  const asOf = Date.parse(AS_OF);
  const cutoff = Date.parse(CUTOFF);
  const start = asOf - 6 * 365 * DAY; // oldest event
  const createdFrom = asOf - 5 * 365 * DAY;
  const iso = (ms: number) => new Date(ms).toISOString();

  const insertContact = db.prepare(`insert into contacts (id, institution_id, organization_id, first_name, last_name, first_name_folded, last_name_folded, email, email_normalized, visibility, approval_status, source, opt_in_status, created_at, updated_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'everyone', 'approved', 'bulk_import', 'unknown', ?, ?)`);
  const insertValue = db.prepare(`insert into contact_attribute_values (contact_id, attribute_id, institution_id, value_text, value_number) values (?, ?, ?, ?, null)`);
  const ids: string[] = new Array(CONTACTS);
  for (let from = 0; from < CONTACTS; from += 20_000) {
    db.transaction(() => {
      for (let i = from; i < Math.min(CONTACTS, from + 20_000); i++) {
        // Inactive contacts were created before the cutoff; the others any time in the five years.
        const created = createdFrom + Math.floor(rng(i * 31 + 7)() * ((isInactive(i) ? cutoff - 30 * DAY : asOf) - createdFrom));
        const first = firstNames[i % firstNames.length];
        const last = lastNameOf(i);
        const id = newId(created);
        ids[i] = id;
        insertContact.run(id, institutionId, organizationId, first, last, foldName(first), foldName(last), emailOf(i), emailOf(i), iso(created), iso(created));
        insertValue.run(id, attributeId, institutionId, programs[i % programs.length]);
      }
    })();
    process.stderr.write(`\r  contacts ${Math.min(CONTACTS, from + 20_000)} / ${CONTACTS}`);
  }
  process.stderr.write('\n');

  const insertOrder = db.prepare(`insert into ticket_orders (id, institution_id, organization_id, external_ref, kind, ordered_at, created_at) values (?, ?, ?, ?, 'sale', ?, ?)`);
  const insertOrderContact = db.prepare(`insert into ticket_order_contacts (order_id, contact_id, institution_id, role) values (?, ?, ?, 'purchase')`);
  const insertLine = db.prepare(`insert into ticket_order_lines (id, order_id, institution_id, position, product, dated, validity_date, quantity, amount_cents, beneficiary_first_name, beneficiary_last_name, beneficiary_anonymised_at)
    values (?, ?, ?, 0, 'Season pass', 0, null, 1, 12000, ?, ?, null)`);
  const insertActivity = db.prepare(`insert into activity_events (institution_id, contact_id, organization_id, actor_user_id, type, occurred_at, data) values (?, ?, ?, null, ?, ?, ?)`);
  const r = rng(20_261_101);
  let orders = 0;
  let activity = 0;
  for (let from = 0; from < EVENTS; from += 50_000) {
    db.transaction(() => {
      for (let j = from; j < Math.min(EVENTS, from + 50_000); j++) {
        const c = j < CONTACTS ? j : Math.floor(r() * CONTACTS);
        const inactive = isInactive(c);
        const at = inactive
          ? start + Math.floor(r() * (cutoff - DAY - start))
          : j < CONTACTS
            ? asOf - Math.floor(r() * 30 * 30 * DAY)
            : start + Math.floor(r() * (asOf - start));
        const kind = j < CONTACTS && inactive ? 0 : r();
        if (kind < 0.2) {
          const orderId = newId(at);
          insertOrder.run(orderId, institutionId, organizationId, `ext-${j}`, iso(at), iso(at));
          insertOrderContact.run(orderId, ids[c], institutionId);
          const named = j % 10 === 0;
          insertLine.run(newId(at), orderId, institutionId, named ? 'Beneficiary' : null, named ? `Guest${j}` : null);
          orders++;
        } else {
          const type = kind < 0.6 ? 'link.clicked' : kind < 0.85 ? 'contact.criterion_changed' : 'consent.authorization_changed';
          const data = type === 'consent.authorization_changed' ? JSON.stringify({ anyGranted: true }) : null;
          insertActivity.run(institutionId, ids[c], organizationId, type, iso(at), data);
          activity++;
        }
      }
    })();
    process.stderr.write(`\r  events ${Math.min(EVENTS, from + 50_000)} / ${EVENTS}`);
  }
  process.stderr.write('\n');

  // What every contact created through Lethe has: a data key, and its (sealed) creation on the audit chain.
  const master = secretsFrom(SECRET).masterKey;
  const keyBytes = rng(424_242);
  const insertKey = db.prepare(`insert into data_keys (subject_id, institution_id, wrapped_key, created_at) values (?, ?, ?, ?)`);
  const insertAudit = db.prepare(`insert into audit_log (chain, institution_id, actor_user_id, actor_label, action, target_type, target_id, subject_id, before_enc, after_enc, meta, occurred_at, prev_hash, hash)
    values (?, ?, null, 'bench', 'contact.create', 'contact', ?, ?, null, ?, null, ?, ?, ?)`);
  const hashOf = (n: number) => n.toString(16).padStart(64, '0');
  let seq = 0;
  db.transaction(() => {
    for (let i = 0; i < CONTACTS; i++) {
      if (!isInactive(i)) continue;
      const key = Buffer.alloc(32);
      for (let b = 0; b < 32; b++) key[b] = Math.floor(keyBytes() * 256);
      insertKey.run(ids[i], institutionId, seal(master, key, ids[i]), AS_OF);
      insertAudit.run(institutionId, institutionId, ids[i], ids[i], seal(key, JSON.stringify({ firstName: firstNames[i % firstNames.length], lastName: lastNameOf(i), email: emailOf(i) }), ids[i]), AS_OF, hashOf(seq), hashOf(seq + 1));
      seq++;
    }
    db.prepare(`insert into audit_chain_heads (chain, last_seq, last_hash, anchor_hash) values (?, ?, ?, ?)`).run(institutionId, seq, hashOf(seq), hashOf(0));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('analyze');
  db.close();
  const meta: Generated = { count: CONTACTS, institutionId, organizationId, orders, activity };
  fs.writeFileSync(`${file}.json`, JSON.stringify(meta));
  return meta;
}

/** A raw connection with the product's settings (src/db/connect.ts), so the comparison is fair. */
function openRaw(file: string) {
  const raw = new SQLite(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('secure_delete = ON');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('wal_autocheckpoint = 10000');
  raw.pragma('cache_size = -16000');
  return raw;
}

/** The candidate dates of the rebuild, without ranks or the window: the bare work over the same events. */
const rawCandidates = `
  select oc.contact_id, oc.institution_id, o.ordered_at as at from ticket_order_contacts oc join ticket_orders o on o.id = oc.order_id where oc.institution_id = @inst
  union all
  select contact_id, institution_id, occurred_at as at from activity_events where institution_id = @inst and type in ('link.clicked', 'contact.criterion_changed')
  union all
  select contact_id, institution_id, occurred_at as at from activity_events where institution_id = @inst and type = 'consent.authorization_changed' and json_extract(data, '$.anyGranted') = 1`;

const inactiveByOutcome = `
  select case when exists (select 1 from ticket_order_contacts oc where oc.contact_id = c.id) then 'anonymise' else 'delete' end as outcome, count(*) as n
  from contacts c left join contact_recency r on r.contact_id = c.id
  where c.institution_id = @inst and coalesce(r.recency_at, c.created_at) < @cutoff
  group by 1`;

/** What `lethe batch inactive [--execute]` does in process: start the run, claim its job, run it, complete it. */
async function runBatch(ctx: AppContext, institutionId: string, execute: boolean) {
  const run = await startInactiveRun(ctx, institutionId, { months: MONTHS, execute, actor: cliActor });
  const job = (await claimNextJob(ctx, 'bench', [INACTIVE_JOB_KIND], 600_000))!;
  if (!job) throw new Error('the batch job was not queued');
  const started = performance.now();
  let chunksDoneAt: number | null = null;
  const result = (await runInactiveJob(ctx, job, { workerId: 'bench', checkpoint: () => null, progress: async () => {} }, {
    onProgress: (done, total) => {
      if (done >= total && chunksDoneAt === null) chunksDoneAt = performance.now();
      if (execute && done % 10_000 === 0) process.stderr.write(`\r  ${done} / ${total}`);
    },
    ...(process.env.BENCH_RETENTION_CHUNK ? { chunkSize: Number(process.env.BENCH_RETENTION_CHUNK) } : {}),
  })) as { totals: { prospectsToDelete: number; customersToAnonymise: number }; executed?: { deleted: number; anonymised: number; skippedActive: number } };
  await completeJob(ctx, job.id, 'bench', result);
  if (execute) process.stderr.write('\n');
  // For an execution: the time from the job's start until every chunk had committed (the rest is beneficiary names, storage completion, finish).
  const chunksSeconds = chunksDoneAt === null ? null : (chunksDoneAt - started) / 1000;
  return { runId: run.id, chunksSeconds, ...result };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
/** CPU seconds of this process (both sides run in it), beside wall time: the cores here are shared. */
const cpuSecondsSince = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return round3((used.user + used.system) / 1e6);
};

export async function run(): Promise<BenchFigure[]> {
  const cache = path.resolve(`bench/results/.retention-${CONTACTS}-${EVENTS}-${INACTIVE}.db`);
  process.stderr.write(`generating ${CONTACTS} contacts, ${EVENTS} events, ${INACTIVE} inactive (cached in ${cache})…\n`);
  const meta = await generate(cache);
  // A cache generated before a later migration is brought to the current schema once (untimed), so
  // the product and the raw baseline both run on the schema (and indexes) the product ships.
  const upgrade = openSqlite(cache);
  await migrateToLatest(upgrade);
  await upgrade.close();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-retention-'));
  const file = path.join(dir, 'lethe.db');
  const baselineFile = path.join(dir, 'baseline.db');
  const inst = meta.institutionId;
  try {
    fs.copyFileSync(cache, file);
    if (ANONYMISE) fs.copyFileSync(cache, baselineFile);

    // recency.rebuild: raw first, on the empty table, then emptied again (untimed) for the product.
    let raw = openRaw(file);
    let t = performance.now();
    let cpu = process.cpuUsage();
    const rawRebuilt = raw.prepare(`insert into contact_recency (contact_id, institution_id, recency_at, reason, rank, source_id)
      select contact_id, institution_id, max(at), 'baseline', 0, null from (${rawCandidates}) group by contact_id`).run({ inst }).changes;
    const rebuildBaselineSeconds = (performance.now() - t) / 1000;
    const rebuildBaselineCpu = cpuSecondsSince(cpu);
    raw.prepare('delete from contact_recency').run();
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    process.stderr.write(`rebuild baseline: ${rawRebuilt} contacts from ${EVENTS} events in ${rebuildBaselineSeconds.toFixed(2)} s\n`);

    const store = openSqlite(file);
    const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: dir, LETHE_SECRET: SECRET, LOG_LEVEL: 'silent' }), { store, log: pino({ level: 'silent' }), clock: new ManualClock(AS_OF) });
    t = performance.now();
    cpu = process.cpuUsage();
    const rebuilt = await rebuildRecency(ctx, null);
    const rebuildSeconds = (performance.now() - t) / 1000;
    const rebuildCpu = cpuSecondsSince(cpu);
    process.stderr.write(`rebuild: ${rebuilt.contacts} contacts in ${rebuildSeconds.toFixed(2)} s (${rebuildCpu} s CPU; raw ${rebuildBaselineCpu} s CPU)\n`);
    if (rebuilt.contacts !== rawRebuilt) throw new Error(`the rebuild gave ${rebuilt.contacts} contacts a recency, the raw statement ${rawRebuilt}`);

    // retention.simulate: raw count by outcome, then the product's simulation run.
    raw = openRaw(file);
    t = performance.now();
    cpu = process.cpuUsage();
    const counted = raw.prepare(inactiveByOutcome).all({ inst, cutoff: CUTOFF }) as { outcome: string; n: number }[];
    const simulateBaselineSeconds = (performance.now() - t) / 1000;
    const simulateBaselineCpu = cpuSecondsSince(cpu);
    const rawCount = (o: string) => Number(counted.find((c) => c.outcome === o)?.n ?? 0);
    // The inactive ids, for the anonymisation baseline on the other copy (untimed).
    const inactiveIds = raw
      .prepare(`select c.id from contacts c left join contact_recency r on r.contact_id = c.id where c.institution_id = @inst and coalesce(r.recency_at, c.created_at) < @cutoff`)
      .pluck()
      .all({ inst, cutoff: CUTOFF }) as string[];
    raw.close();
    process.stderr.write(`simulate baseline: ${rawCount('delete')} to delete, ${rawCount('anonymise')} to anonymise in ${simulateBaselineSeconds.toFixed(3)} s\n`);

    t = performance.now();
    cpu = process.cpuUsage();
    const simulated = await runBatch(ctx, inst, false);
    const simulateSeconds = (performance.now() - t) / 1000;
    const simulateCpu = cpuSecondsSince(cpu);
    process.stderr.write(`simulate: ${JSON.stringify(simulated.totals)} in ${simulateSeconds.toFixed(2)} s (${simulateCpu} s CPU; raw ${simulateBaselineCpu} s CPU)\n`);
    if (simulated.totals.prospectsToDelete !== rawCount('delete') || simulated.totals.customersToAnonymise !== rawCount('anonymise')) {
      throw new Error(`the simulation found ${JSON.stringify(simulated.totals)}, the raw count ${JSON.stringify(counted)}`);
    }
    if (simulated.totals.customersToAnonymise !== INACTIVE || simulated.totals.prospectsToDelete !== 0) throw new Error(`expected ${INACTIVE} customers to anonymise, got ${JSON.stringify(simulated.totals)}`);

    const anonymisation = ANONYMISE ? await measureAnonymisation(ctx, inst, baselineFile, inactiveIds) : null;
    await store.close();

    const common = { contacts: CONTACTS, events: EVENTS, orders: meta.orders, activityEvents: meta.activity, inactive: INACTIVE, asOf: AS_OF, cutoff: CUTOFF, months: MONTHS };
    return [
      figure('retention.simulate_s', simulateSeconds, 's', simulateBaselineSeconds, {
        ...common,
        seconds: round3(simulateSeconds),
        baseline_seconds: round3(simulateBaselineSeconds),
        cpu_seconds: simulateCpu,
        baseline_cpu_seconds: simulateBaselineCpu,
        load_average: os.loadavg()[0],
        target: '<= 3 s',
        productDoes: 'startInactiveRun (lock, job, run row, audit) + the job: snapshot of the inactive set into retention_run_items with its outcome, the report (per organization, histogram of every contact by recency month, sample, beneficiary lines), run finish',
        baselineIs: 'one raw count of the inactive contacts by outcome (coalesce(recency_at, created_at) < cutoff, customer or not)',
      }),
      figure('recency.rebuild_events_per_s', EVENTS / rebuildSeconds, 'events/s', EVENTS / rebuildBaselineSeconds, {
        ...common,
        contactsWithRecency: rebuilt.contacts,
        seconds: round3(rebuildSeconds),
        baseline_seconds: round3(rebuildBaselineSeconds),
        cpu_seconds: rebuildCpu,
        baseline_cpu_seconds: rebuildBaselineCpu,
        target: '>= 500000 events/s',
        productDoes: 'rebuildRecency: drop the secondary index, delete, then one insert … select of the best candidate per contact (the max of a date + rank + record key) over options, orders (with lines), waiting lists and qualifying activity, merged in contact order from their indexes, then the index rebuilt; one transaction',
        baselineIs: 'one raw insert … select max(at) … group by contact_id over the same orders and qualifying activity',
      }),
      ...(anonymisation ? [anonymisationFigure(common, anonymisation)] : []),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** retention.anonymise: raw UPDATEs of the same contacts on the other copy, then the product's execution. */
async function measureAnonymisation(ctx: AppContext, inst: string, baselineFile: string, inactiveIds: string[]) {
  const base = openRaw(baselineFile);
  // The settings the product's execution runs with (src/db/bulk-writing.ts).
  base.pragma(`wal_autocheckpoint = ${BULK_WAL_AUTOCHECKPOINT}`);
  base.pragma(`cache_size = -${BULK_CACHE_KIB}`);
  base.exec('create temp table bench_ids (id text primary key)');
  const insertId = base.prepare('insert into bench_ids (id) values (?)');
  base.transaction(() => inactiveIds.forEach((id) => insertId.run(id)))();
  base.pragma('wal_checkpoint(TRUNCATE)');
  let t = performance.now();
  const blanked = base.transaction(
    () =>
      base
        .prepare(`update contacts set first_name = 'Anonymised', last_name = 'Contact', first_name_folded = 'anonymised', last_name_folded = 'contact',
          email = null, email_normalized = null, mobile_phone = null, mobile_e164 = null, ssn_hash_full = null, ssn_hash_last6 = null, ssn_hash_last4 = null,
          employer_id = null, owner_user_id = null, opt_in_status = 'unknown', opt_in_changed_at = null, updated_at = ?
          where id in (select id from bench_ids)`)
        .run(AS_OF).changes,
  )();
  const anonymiseBaselineSeconds = (performance.now() - t) / 1000;
  base.close();
  process.stderr.write(`anonymise baseline: ${blanked} contacts in ${anonymiseBaselineSeconds.toFixed(3)} s\n`);

  t = performance.now();
  const executed = await runBatch(ctx, inst, true);
  const anonymiseSeconds = (performance.now() - t) / 1000;
  process.stderr.write(`anonymise: ${JSON.stringify(executed.executed)} in ${anonymiseSeconds.toFixed(2)} s\n`);
  const anonymised = executed.executed?.anonymised ?? 0;
  if (anonymised !== INACTIVE) throw new Error(`expected ${INACTIVE} anonymised, got ${JSON.stringify(executed.executed)}`);
  const supportKeys = await ctx.db.selectFrom('retention_support_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { anonymised, blanked, anonymiseSeconds, anonymiseBaselineSeconds, chunksSeconds: executed.chunksSeconds, supportKeys: Number(supportKeys.n) };
}

function anonymisationFigure(common: Record<string, unknown>, m: NonNullable<Awaited<ReturnType<typeof measureAnonymisation>>>): BenchFigure {
  const { anonymised, blanked, anonymiseSeconds, anonymiseBaselineSeconds, chunksSeconds, supportKeys } = m;
  return figure('retention.anonymise_per_s', anonymised / anonymiseSeconds, 'contacts/s', blanked / anonymiseBaselineSeconds, {
    ...common,
    anonymised,
    supportKeys,
    snapshot_and_chunks_seconds: chunksSeconds === null ? null : round3(chunksSeconds),
    seconds: round3(anonymiseSeconds),
    baseline_seconds: round3(anonymiseBaselineSeconds),
    target: '>= 20000 contacts/s',
    productDoes:
      'an execution run: snapshot and report, then 500-contact transactions: current state, one sealed hash-chained audit entry per contact with the removed values, data keys handed to support, activity/attributes/children deleted, contact columns blanked, stub marked, webhook events; beneficiary names; storage-level completion',
    baselineIs: 'one raw UPDATE blanking the same contact columns of the same contacts, one transaction, on a copy of the same file',
  });
}
