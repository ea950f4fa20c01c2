import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { openSqlite } from '../src/db/connect.ts';
import { openContext } from '../src/runtime.ts';
import { newId } from '../src/ids.ts';
import { systemActor } from '../src/audit/audit-log.ts';
import { systemViewer } from '../src/contacts/visibility.ts';
import { seal } from '../src/security/aead.ts';
import { secretsFrom } from '../src/security/server-secret.ts';
import { startBulkJob, runBulkJob, BULK_JOB_KIND } from '../src/lifecycle/bulk/bulk-job.ts';
import { BULK_CACHE_KIB, BULK_WAL_AUTOCHECKPOINT } from '../src/db/bulk-writing.ts';
import { claimNextJob, completeJob } from '../src/jobs/queue.ts';
import { foldName } from '../src/contacts/normalize.ts';
import { cachedMeta, emailOf, freshBenchDatabase, lastNameOf, programs, rng } from './generate-contacts.ts';
import { figure, type BenchFigure } from './result.ts';
import { bareWritesFloor } from './bulk-update-floor.ts';

/**
 * bulk.update_per_s: a bulk attribute + visibility update of COUNT/10 contacts (five "program"
 * values) among COUNT, through the product's bulk job: the set fixed in its own table, chunks of
 * 1,000 contacts per transaction with their checkpoint, employment/attribute/visibility writes,
 * activity events and one sealed audit entry per contact on the hash chain. Baseline: the raw
 * UPDATE (and attribute upsert) of the same rows in one transaction, on the same file.
 */

const COUNT = Number(process.env.BENCH_BULK_CONTACTS ?? 1_000_000);
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const chosen = programs.slice(0, 5);
const firstNames = ['Ada', 'Björn', 'Chloé', 'Dmitri', 'Émile', 'Farah', 'Grace', 'Hiro', 'Inès', 'José', 'Kofi', 'Léa', 'Mateo', 'Nia', 'Olga', 'Priya'];

interface Generated {
  institutionId: string;
  attributeId: string;
}

/**
 * COUNT contacts as Lethe lays them out: created over five years and inserted in that order (ids
 * are UUIDv7 minted at creation, so id order is insertion order), each with a "program" choice
 * attribute. The directory benchmark's generator inserts in random creation order, which puts
 * id order and storage order at odds; a bulk job walks ids in order, so it gets its own file.
 */
async function generate(file: string): Promise<Generated> {
  const cached = cachedMeta<Generated & { count: number }>(file, COUNT);
  if (cached) return cached;
  const { db, now, institutionId, organizationId, attributeId } = await freshBenchDatabase(file);
  const insertContact = db.prepare(`insert into contacts (id, institution_id, organization_id, first_name, last_name, first_name_folded, last_name_folded, email, email_normalized, visibility, approval_status, source, opt_in_status, created_at, updated_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'approved', 'bulk_import', 'unknown', ?, ?)`);
  const insertValue = db.prepare(`insert into contact_attribute_values (contact_id, attribute_id, institution_id, value_text, value_number) values (?, ?, ?, ?, null)`);
  const start = Date.parse(now) - 5 * 365 * 86_400_000;
  const step = (5 * 365 * 86_400_000) / COUNT;
  for (let from = 0; from < COUNT; from += 20_000) {
    db.transaction(() => {
      for (let i = from; i < Math.min(COUNT, from + 20_000); i++) {
        const created = new Date(start + Math.floor(i * step));
        const first = firstNames[i % firstNames.length];
        const last = lastNameOf(i);
        const v = rng(i)();
        const visibility = v < 0.8 ? 'everyone' : v < 0.95 ? 'staff_only' : 'owner_only';
        const id = newId(created.getTime());
        insertContact.run(id, institutionId, organizationId, first, last, foldName(first), foldName(last), emailOf(i), emailOf(i), visibility, created.toISOString(), created.toISOString());
        insertValue.run(id, attributeId, institutionId, programs[i % programs.length]);
      }
    })();
    process.stderr.write(`\r  ${Math.min(COUNT, from + 20_000)} / ${COUNT}`);
  }
  process.stderr.write('\n');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('analyze');
  db.close();
  const meta = { count: COUNT, institutionId, attributeId };
  fs.writeFileSync(`${file}.json`, JSON.stringify(meta));
  return meta;
}

export async function run(): Promise<BenchFigure[]> {
  const cache = path.resolve(`bench/results/.bulk-${COUNT}.db`);
  process.stderr.write(`generating ${COUNT} contacts (cached in ${cache})…\n`);
  const meta = await generate(cache);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-bulk-'));
  const file = path.join(dir, 'lethe.db');
  try {
    fs.copyFileSync(cache, file);
    const store = openSqlite(file);
    const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: dir, LETHE_SECRET: SECRET, LOG_LEVEL: 'silent' }), { store, log: pino({ level: 'silent' }) });

    // Set-up (not timed): a "status" attribute, and the data key every contact created through
    // Lethe already has (its creation was audited), for the contacts the update takes.
    const raw = new SQLite(file);
    // The same settings as the product's connection (src/db/connect.ts) during a bulk job, so the comparison is fair.
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    raw.pragma('secure_delete = ON');
    raw.pragma(`wal_autocheckpoint = ${BULK_WAL_AUTOCHECKPOINT}`);
    raw.pragma(`cache_size = -${BULK_CACHE_KIB}`);
    const statusId = newId();
    const now = new Date().toISOString();
    raw.prepare(`insert into attribute_definitions (id, institution_id, key, label, type, options, created_at) values (?, ?, 'status', 'Status', 'text', null, ?)`).run(statusId, meta.institutionId, now);
    const selectedSql = `select contact_id from contact_attribute_values where attribute_id = ? and value_text in (${chosen.map(() => '?').join(',')})`;
    const selected = raw.prepare(selectedSql).pluck().all(meta.attributeId, ...chosen) as string[];
    const master = secretsFrom(SECRET).masterKey;
    const insertKey = raw.prepare(`insert or ignore into data_keys (subject_id, institution_id, wrapped_key, created_at) values (?, ?, ?, ?)`);
    raw.transaction(() => {
      for (const id of selected) insertKey.run(id, meta.institutionId, seal(master, randomBytes(32), id), now);
    })();
    raw.pragma('wal_checkpoint(TRUNCATE)');
    process.stderr.write(`${selected.length} contacts selected\n`);
    const floorFile = path.join(dir, 'floor.db');
    fs.copyFileSync(file, floorFile);

    // Baseline: the bare storage work, the same rows, the same two changes.
    let t = performance.now();
    raw.transaction(() => {
      raw.prepare(`update contacts set visibility = 'owner_only', updated_at = ? where id in (${selectedSql})`).run(now, meta.attributeId, ...chosen);
      raw
        .prepare(
          `insert into contact_attribute_values (contact_id, attribute_id, institution_id, value_text, value_number)
           select contact_id, ?, ?, 'baseline', null from contact_attribute_values where attribute_id = ? and value_text in (${chosen.map(() => '?').join(',')})
           on conflict (contact_id, attribute_id) do update set value_text = excluded.value_text`,
        )
        .run(statusId, meta.institutionId, meta.attributeId, ...chosen);
    })();
    const baselineSeconds = (performance.now() - t) / 1000;
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    process.stderr.write(`baseline: ${selected.length} rows in ${baselineSeconds.toFixed(2)} s\n`);

    // The product: preview-equivalent snapshot + the job, every chunk committed with its checkpoint.
    t = performance.now();
    const started = await startBulkJob(
      ctx,
      meta.institutionId,
      { viewer: systemViewer, actor: systemActor, via: 'bulk' },
      { attributes: [{ key: 'program', op: 'eq', values: chosen }] },
      { action: 'update', visibility: 'staff_only', attributes: { status: 'alumni 2026' } },
      process.env.BENCH_BULK_CHUNK ? { chunk: Number(process.env.BENCH_BULK_CHUNK) } : {},
    );
    const job = (await claimNextJob(ctx, 'bench', [BULK_JOB_KIND], 600_000))!;
    const report = await runBulkJob(ctx, job, { workerId: 'bench', checkpoint: () => null, progress: async () => {} }, {
      onChunk: (done, total) => void (done % 10_000 === 0 && process.stderr.write(`\r  ${done} / ${total}`)),
    });
    await completeJob(ctx, job.id, 'bench', report);
    const productSeconds = (performance.now() - t) / 1000;
    process.stderr.write(`\nlethe: ${report.changed} changed in ${productSeconds.toFixed(2)} s\n`);
    if (report.changed !== selected.length || started.count !== selected.length) throw new Error(`expected ${selected.length} changes, got ${JSON.stringify(report)}`);
    const audit = await ctx.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'contact.bulk_update').executeTakeFirstOrThrow();
    await store.close();
    fs.rmSync(file);

    process.stderr.write('floor: the bare writes the update requires…\n');
    const floor = await bareWritesFloor(floorFile, meta.institutionId, statusId, selected);
    process.stderr.write(`floor: ${selected.length} in ${floor.seconds.toFixed(2)} s\n`);

    return [
      figure('bulk.update_per_s', selected.length / productSeconds, 'contacts/s', selected.length / baselineSeconds, {
        contacts: COUNT,
        updated: selected.length,
        auditEntries: Number(audit.n),
        seconds: Math.round(productSeconds * 100) / 100,
        baseline_seconds: Math.round(baselineSeconds * 1000) / 1000,
        target: '>= 20000 contacts/s',
        productDoes: 'snapshot of the filtered set, 1,000-contact transactions with checkpoint, visibility + attribute writes, 3 activity events and 1 sealed, hash-chained audit entry per contact',
        baselineIs: 'one raw UPDATE of visibility and one raw attribute upsert of the same rows, one transaction',
      }),
      figure('bulk.update_floor_per_s', floor.perSecond, 'contacts/s', selected.length / baselineSeconds, {
        seconds: Math.round(floor.seconds * 100) / 100,
        productRatio: Math.round((selected.length / productSeconds / floor.perSecond) * 100) / 100,
        floorIs: 'only the rows the update must write per contact (row and attribute read, visibility update, attribute upsert, 3 activity events, recency upsert, data key read, one audit row of sealed size), bare set-based SQL in the same 1,000-contact transactions, then the checkpoint',
        baselineIs: 'the raw UPDATE of bulk.update_per_s',
      }),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
