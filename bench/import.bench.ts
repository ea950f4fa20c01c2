import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { openSqlite } from '../src/db/connect.ts';
import { openContext } from '../src/runtime.ts';
import { newId } from '../src/ids.ts';
import { foldName } from '../src/contacts/normalize.ts';
import { writeIntakeSettings } from '../src/intake/settings.ts';
import { emailOf, generateDirectory, lastNameOf } from './generate-contacts.ts';
import { figure, type BenchFigure } from './result.ts';

/**
 * import.rows_per_s: `lethe import` (the real CLI, as a child process) of a CSV into a store that
 * already holds STORE contacts, with the rule "Email OR Mobile + Last name" and 5% of the rows
 * duplicates of stored contacts. Baseline: raw better-sqlite3 inserts of the rows the import
 * creates (already normalised) into a copy of the same store, in one transaction. Both figures
 * are rows of the file per second. Peak RSS is the child's VmHWM.
 */

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
const STORE = Number(process.env.BENCH_IMPORT_STORE ?? 1_000_000);
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const areas = [212, 415, 312, 617, 206, 303, 404, 512, 702, 801];

interface Row {
  first: string;
  last: string;
  email: string;
  mobile: string | null;
  e164: string | null;
  duplicate: boolean;
}

/** Row i of the file: every 20th is a stored contact (same email and last name), the rest are new people. */
function rowOf(i: number): Row {
  if (i % 20 === 7) {
    const j = (i * 7919) % STORE;
    return { first: 'Pat', last: lastNameOf(j), email: emailOf(j), mobile: null, e164: null, duplicate: true };
  }
  const area = areas[i % 10];
  const exchange = 200 + (Math.floor(i / 10) % 700);
  const line = String(Math.floor(i / 7000) % 10000).padStart(4, '0');
  return {
    first: ['Alex', 'Sam', 'Noor', 'Jonas', 'Inès'][i % 5],
    last: `Newman${i % 1000}`,
    email: `new${i}@import${i % 89}.org`,
    mobile: `+1 (${area}) ${exchange}-${line}`,
    e164: `+1${area}${exchange}${line}`,
    duplicate: false,
  };
}

async function writeCsv(file: string): Promise<void> {
  if (fs.existsSync(file)) return;
  const out = fs.createWriteStream(`${file}.tmp`);
  out.write('First Name,Last Name,Email,Mobile Phone\n');
  let buffer = '';
  for (let i = 0; i < ROWS; i++) {
    const r = rowOf(i);
    buffer += `${r.first},${r.last},${r.email},${r.mobile ?? ''}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      buffer = '';
    }
  }
  out.write(buffer);
  await new Promise<void>((resolve) => out.end(() => resolve()));
  fs.renameSync(`${file}.tmp`, file);
}

function copyStore(from: string, dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const to = path.join(dir, 'lethe.db');
  fs.copyFileSync(from, to);
  return to;
}

/** Runs a command, sampling its peak resident memory (VmHWM) until it exits. */
function runMeasured(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; seconds: number; cpuSeconds: number; peakRssMb: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let cpu = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const sample = () => {
      try {
        const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
        // utime + stime, in clock ticks (100 per second on Linux)
        const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        cpu = (Number(stat[11]) + Number(stat[12])) / 100;
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 50);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, seconds: (performance.now() - started) / 1000, cpuSeconds: cpu, peakRssMb: Math.round(peak), stdout, stderr });
    });
  });
}

function rawBaseline(file: string, institutionId: string, organizationId: string): { seconds: number; cpuSeconds: number } {
  const rows: unknown[][] = [];
  const now = new Date().toISOString();
  const ms = Date.parse(now);
  for (let i = 0; i < ROWS; i++) {
    const r = rowOf(i);
    if (r.duplicate) continue;
    rows.push([newId(ms), institutionId, organizationId, r.first, r.last, foldName(r.first), foldName(r.last), r.email, r.email, r.mobile, r.e164, now, now]);
  }
  // The same storage settings as the product's connection (src/db/connect.ts).
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('cache_size = -16000');
  const insert = db.prepare(
    `insert into contacts (id, institution_id, organization_id, first_name, last_name, first_name_folded, last_name_folded, email, email_normalized, mobile_phone, mobile_e164,
       ssn_hash_full, ssn_hash_last6, ssn_hash_last4, employer_id, owner_user_id, visibility, approval_status, source, opt_in_status, opt_in_changed_at, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, null, null, null, null, 'everyone', 'approved', 'bulk_import', 'unknown', null, ?, ?)`,
  );
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  db.transaction(() => {
    for (const r of rows) insert.run(...r);
  })();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  db.close();
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

export async function run(): Promise<BenchFigure[]> {
  const storeFile = path.resolve(`bench/results/.directory-${STORE}.db`);
  process.stderr.write(`generating ${STORE} contacts (cached in ${storeFile})…\n`);
  const meta = await generateDirectory(storeFile, STORE, (n) => process.stderr.write(`\r  ${n} / ${STORE}`));
  process.stderr.write('\n');
  const csv = path.resolve(`bench/results/.import-${ROWS}.csv`);
  process.stderr.write(`writing the ${ROWS}-row CSV (cached in ${csv})…\n`);
  await writeCsv(csv);

  // The product: a migrated copy of the store with the rule set, then the real CLI.
  const workDir = path.resolve('bench/results/.import-work');
  const workDb = copyStore(storeFile, workDir);
  const store = openSqlite(workDb);
  const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: workDir, LETHE_SECRET: SECRET }), { store, log: pino({ level: 'silent' }) });
  await writeIntakeSettings(ctx.db, meta.institutionId, { duplicateRule: { identifier: 'email_or_mobile', lastName: true, ssn: 'none' } });
  const organization = await ctx.db.selectFrom('organizations').select('id').where('institution_id', '=', meta.institutionId).executeTakeFirstOrThrow();
  await store.close();
  const env: NodeJS.ProcessEnv = { ...process.env, LETHE_DATA_DIR: workDir, LETHE_SECRET: SECRET, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const bin = path.resolve('bin/lethe.js');
  spawnSync(process.execPath, [bin, '--help'], { env }); // builds the bundle outside the measurement
  const idle = await runMeasured([bin, 'migrate', 'status'], env);

  process.stderr.write(`importing ${ROWS} rows into ${STORE} contacts with lethe import…\n`);
  const product = await runMeasured([bin, 'import', csv, '--org', organization.id], env);
  if (product.code !== 0) throw new Error(`lethe import failed (${product.code}): ${product.stderr}`);
  const summary = /: ([\d,]+) created, ([\d,]+) updated, ([\d,]+) skipped as duplicates, ([\d,]+) invalid/.exec(product.stdout);
  const [created, , duplicates, invalid] = (summary?.slice(1) ?? []).map((n) => Number(n.replace(/,/g, '')));
  const expectedDuplicates = Array.from({ length: ROWS }, (_, i) => i).filter((i) => i % 20 === 7).length;
  if (duplicates !== expectedDuplicates || invalid !== 0 || created !== ROWS - expectedDuplicates) {
    throw new Error(`unexpected import summary: ${product.stdout}`);
  }

  process.stderr.write('baseline: raw better-sqlite3 inserts of the same rows…\n');
  // The baseline starts from the store as it was before the import: a fresh copy, migrated the same way.
  const baseDb = copyStore(storeFile, path.resolve('bench/results/.import-baseline'));
  const baseStore = openSqlite(baseDb);
  await openContext(loadConfig({ LETHE_DATA_DIR: path.dirname(baseDb), LETHE_SECRET: SECRET }), { store: baseStore, log: pino({ level: 'silent' }) });
  await baseStore.close();
  const raw = rawBaseline(baseDb, meta.institutionId, organization.id);
  const baselineSeconds = raw.seconds;

  fs.rmSync(workDir, { recursive: true, force: true });
  fs.rmSync(path.dirname(baseDb), { recursive: true, force: true });
  const value = ROWS / product.seconds;
  const baseline = ROWS / baselineSeconds;
  process.stderr.write(
    `import: ${product.seconds.toFixed(1)} s, ${product.cpuSeconds.toFixed(1)} s CPU (${Math.round(value)} rows/s), peak RSS ${product.peakRssMb} MB; raw inserts: ${baselineSeconds.toFixed(1)} s, ${raw.cpuSeconds.toFixed(1)} s CPU\n`,
  );
  return [
    figure('import.rows_per_s', value, 'rows/s', baseline, {
      rows: ROWS,
      storeContacts: STORE,
      created,
      skippedDuplicate: duplicates,
      seconds: Math.round(product.seconds * 10) / 10,
      baselineSeconds: Math.round(baselineSeconds * 10) / 10,
      cpuSeconds: Math.round(product.cpuSeconds * 10) / 10,
      baselineCpuSeconds: Math.round(raw.cpuSeconds * 10) / 10,
      cpuRatio: Math.round((raw.cpuSeconds / product.cpuSeconds) * 100) / 100,
      peakRssMb: product.peakRssMb,
      chunkRows: loadConfig({}).importChunkRows,
      rule: 'Email OR Mobile + Last name',
      target: '>= 50,000 rows/s, ratio >= 0.25, peak RSS <= 300 MB',
      productDoes: 'lethe import as a child process: sha256 of the file, streaming parse, UTF-8 check, validation (libphonenumber), batched dedupe against the store and within the file, contact + activity event per row, chunk audit entry, checkpoint per chunk',
      baselineIs: 'raw better-sqlite3 inserts of the created rows, pre-normalised, one transaction, into a copy of the same store',
    }),
    figure('import.peak_rss_mb', product.peakRssMb, 'MB', idle.peakRssMb, { target: '<= 300 MB', baselineIs: 'peak RSS of `lethe migrate status` on the same store (an idle CLI process)' }),
  ];
}
