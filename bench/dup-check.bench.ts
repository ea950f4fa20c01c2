import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { openSqlite } from '../src/db/connect.ts';
import { openContext } from '../src/runtime.ts';
import { secretsFrom } from '../src/security/server-secret.ts';
import { findDuplicates } from '../src/intake/duplicates.ts';
import { existingProfileFromRow, isDuplicate, type Candidate } from '../src/intake/rules/match.ts';
import { ssnHashes } from '../src/intake/rules/normalize.ts';
import type { DuplicateRule } from '../src/intake/rules/duplicate-rule.ts';
import { foldName } from '../src/contacts/normalize.ts';
import { emailOf, generateDirectory, lastNameOf, rng } from './generate-contacts.ts';
import { figure, percentile, type BenchFigure } from './result.ts';

const COUNT = Number(process.env.BENCH_DUP_CONTACTS ?? 1_000_000);
const CHECKS = Number(process.env.BENCH_DUP_CHECKS ?? 20_000);
const ROUNDS = 5;
const SECRET = 'bench-secret-0123456789abcdef0123456789';
/** The import rule, plus the full SSN so the third look-up runs too. */
const RULE: DuplicateRule = { identifier: 'email_or_mobile', lastName: true, ssn: 'full' };

const mobileOf = (i: number) => `+1212${300 + Math.floor(i / 10_000)}${String(i % 10_000).padStart(4, '0')}`;
const ssnOf = (i: number) => `${String(100 + (i % 500)).padStart(3, '0')}${String(10 + (i % 89)).padStart(2, '0')}${String(1000 + (i % 9000)).padStart(4, '0')}`;

/**
 * The directory generator's contacts, plus a mobile phone and SSN hashes on every one, so each of
 * the rule's look-ups (email, mobile, full SSN) probes a realistic index. Cached beside the others.
 */
async function prepare(file: string): Promise<{ institutionId: string }> {
  const marker = `${file}.dup.json`;
  const meta = await generateDirectory(file, COUNT, (n) => process.stderr.write(`\r  ${n} / ${COUNT}`));
  process.stderr.write('\n');
  // The generator migrates the file it creates; a file cached before newer migrations gets them here.
  const store = openSqlite(file);
  await openContext(loadConfig({ LETHE_DATA_DIR: path.dirname(file), LETHE_SECRET: SECRET }), { store, log: pino({ level: 'silent' }) });
  await store.close();
  if (fs.existsSync(marker)) return meta;
  process.stderr.write('adding mobiles and SSN hashes…\n');
  const key = secretsFrom(SECRET).piiHashKey;
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const rows = db.prepare('select rowid as r, email_normalized as e from contacts').all() as { r: number; e: string }[];
  const update = db.prepare('update contacts set mobile_phone = ?, mobile_e164 = ?, ssn_hash_full = ?, ssn_hash_last6 = ?, ssn_hash_last4 = ? where rowid = ?');
  const indexOf = (email: string) => Number(/^person(\d+)@/.exec(email)![1]);
  for (let from = 0; from < rows.length; from += 50_000) {
    db.transaction(() => {
      for (const row of rows.slice(from, from + 50_000)) {
        const i = indexOf(row.e);
        const h = ssnHashes(key, ssnOf(i));
        update.run(mobileOf(i), mobileOf(i), h.full, h.last6, h.last4, row.r);
      }
    })();
    process.stderr.write(`\r  ${Math.min(rows.length, from + 50_000)} / ${rows.length}`);
  }
  process.stderr.write('\n');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('analyze');
  db.close();
  fs.writeFileSync(marker, JSON.stringify({ count: COUNT }));
  return meta;
}

export async function run(): Promise<BenchFigure[]> {
  const file = path.resolve(`bench/results/.dupcheck-${COUNT}.db`);
  process.stderr.write(`generating ${COUNT} contacts (cached in ${file})…\n`);
  const { institutionId } = await prepare(file);
  const store = openSqlite(file);
  const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: path.dirname(file), LETHE_SECRET: SECRET }), { store, log: pino({ level: 'silent' }) });
  const key = ctx.secrets.piiHashKey;

  // Applicants: half are people on file (typed again: same email, mobile, name and SSN), half are not.
  const random = rng(42);
  const candidates: Candidate[] = Array.from({ length: CHECKS }, (_, k) => {
    const i = Math.floor(random() * COUNT);
    const known = k % 2 === 0;
    // Newcomers' SSNs use areas 600–659, which no generated contact has.
    const h = ssnHashes(key, known ? ssnOf(i) : `6${String(k % 60).padStart(2, '0')}45${String(1000 + (k % 9000)).padStart(4, '0')}`);
    return {
      emailNormalized: known ? emailOf(i) : `newcomer${k}@example.net`,
      mobileE164: known ? mobileOf(i) : `+1646${String(2_000_000 + k).padStart(7, '0')}`,
      lastNameFolded: foldName(lastNameOf(i)),
      ssnHashFull: h.full,
      ssnHashLast6: h.last6,
      ssnHashLast4: h.last4,
    };
  });

  // The baseline: the same three indexed equality look-ups as hand-written prepared statements
  // through raw better-sqlite3, and the same pure filter.
  const raw = new SQLite(file, { readonly: true });
  const columns = 'id, email_normalized, mobile_e164, last_name_folded, ssn_hash_full, ssn_hash_last6, ssn_hash_last4';
  const byEmail = raw.prepare(`select ${columns} from contacts where institution_id = ? and email_normalized = ?`);
  const byMobile = raw.prepare(`select ${columns} from contacts where institution_id = ? and mobile_e164 = ?`);
  const bySsn = raw.prepare(`select ${columns} from contacts where institution_id = ? and ssn_hash_full = ?`);
  type Row = Parameters<typeof existingProfileFromRow>[0] & { id: string };
  const rawCheck = (c: Candidate) => {
    const rows = [
      ...(byEmail.all(institutionId, c.emailNormalized) as Row[]),
      ...(byMobile.all(institutionId, c.mobileE164) as Row[]),
      ...(bySsn.all(institutionId, c.ssnHashFull) as Row[]),
    ];
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.id) && seen.add(r.id) && isDuplicate(RULE, c, existingProfileFromRow(r)).duplicate);
  };

  // Warm both paths (statement caches) and every page the checks touch, so neither side pays for
  // the other's first read of a page; then time each check, alternating which side goes first.
  for (const c of candidates) rawCheck(c);
  for (const c of candidates.slice(0, 500)) await findDuplicates(ctx.db, institutionId, RULE, c);
  const lethe: number[] = [];
  const baseline: number[] = [];
  let found = 0;
  let rawFound = 0;
  const timeLethe = async (c: Candidate) => {
    const t = performance.now();
    found += (await findDuplicates(ctx.db, institutionId, RULE, c)).length;
    lethe.push((performance.now() - t) * 1000);
  };
  const timeRaw = (c: Candidate) => {
    const t = performance.now();
    rawFound += rawCheck(c).length;
    baseline.push((performance.now() - t) * 1000);
  };
  for (const [k, c] of candidates.entries()) {
    if (k % 2 === 0) {
      await timeLethe(c);
      timeRaw(c);
    } else {
      timeRaw(c);
      await timeLethe(c);
    }
  }
  raw.close();
  await store.close();
  if (found !== rawFound) throw new Error(`findDuplicates found ${found} duplicates, the raw baseline ${rawFound}`);
  const p = (samples: number[], q: number) => Math.round(percentile(samples, q) * 10) / 10;
  // The machines are shared: a burst of someone else's load sets the p99 of the round it falls in.
  // The checks are cut into rounds and the median round's p99 is reported (both sides, same rounds).
  const rounds = (samples: number[]) => Array.from({ length: ROUNDS }, (_, r) => p(samples.slice((r * samples.length) / ROUNDS, ((r + 1) * samples.length) / ROUNDS), 99));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const letheRounds = rounds(lethe);
  const rawRounds = rounds(baseline);
  process.stderr.write(
    `lethe p50 ${p(lethe, 50)} µs, p99 per round ${letheRounds.join(' ')} µs (all ${p(lethe, 99)}); ` +
      `raw p50 ${p(baseline, 50)} µs, p99 per round ${rawRounds.join(' ')} µs (all ${p(baseline, 99)}); duplicates found ${found}/${CHECKS}\n`,
  );
  return [
    figure('intake.dup_check_p99_us', median(letheRounds), 'µs', median(rawRounds), {
      target: 'p99 <= 1000 µs',
      contacts: COUNT,
      checks: CHECKS,
      p99_is: `median of ${ROUNDS} rounds' p99`,
      p99_rounds_us: letheRounds,
      baseline_p99_rounds_us: rawRounds,
      rule: 'BOTH (Email OR Mobile Phone) + Last Name + SSN',
      p50_us: p(lethe, 50),
      baseline_p50_us: p(baseline, 50),
      duplicatesFound: found,
      productDoes: 'findDuplicates: candidateLookups → one UNION ALL statement (built by Kysely once per shape) through the Kysely executor, then isDuplicate',
      baselineIs: 'the same three indexed look-ups as prepared better-sqlite3 statements, same filter',
    }),
  ];
}
