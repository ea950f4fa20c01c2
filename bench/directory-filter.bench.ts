import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { openSqlite } from '../src/db/connect.ts';
import { openContext } from '../src/runtime.ts';
import { searchDirectory, type DirectoryFilters } from '../src/contacts/directory.ts';
import type { Viewer } from '../src/contacts/visibility.ts';
import { foldName } from '../src/contacts/normalize.ts';
import { prefixRange } from '../src/contacts/prefix.ts';
import { emailOf, generateDirectory, lastNameOf, programs, rng } from './generate-contacts.ts';
import { figure, percentile, type BenchFigure } from './result.ts';

const COUNT = Number(process.env.BENCH_DIRECTORY_CONTACTS ?? 1_000_000);
const ROUNDS = 300;

interface Query {
  kind: string;
  filters: DirectoryFilters;
  viewer: Viewer;
  raw: () => unknown[];
}

export async function run(): Promise<BenchFigure[]> {
  const file = path.resolve(`bench/results/.directory-${COUNT}.db`);
  process.stderr.write(`generating ${COUNT} contacts (cached in ${file})…\n`);
  const meta = await generateDirectory(file, COUNT, (n) => process.stderr.write(`\r  ${n} / ${COUNT}`));
  process.stderr.write('\n');

  const store = openSqlite(file);
  const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: path.dirname(file), LETHE_SECRET: 'bench-secret-0123456789abcdef0123456789' }), {
    store,
    log: pino({ level: 'silent' }),
  });
  const raw = new SQLite(file, { readonly: true });
  const staff: Viewer = { userId: null, seeStaffOnly: true, seeAllOwners: false };
  const employer: Viewer = { userId: meta.ownerUserId, seeStaffOnly: false, seeAllOwners: false };

  // The bare storage work each query needs, written by hand against the same indexes; like the
  // product, each leaves out rejected and disabled (soft-deleted) contacts.
  const byEmail = raw.prepare(
    `select * from contacts where institution_id = ? and email_normalized = ? and approval_status <> 'rejected' and id not in (select contact_id from disabled_contacts)
     and (visibility = 'everyone' or visibility = 'staff_only' or owner_user_id = ?) order by created_at desc, id desc limit 50`,
  );
  const byLastName = raw.prepare(
    `select * from contacts where institution_id = ? and last_name_folded >= ? and last_name_folded < ? and approval_status <> 'rejected' and id not in (select contact_id from disabled_contacts)
     and (visibility = 'everyone' or visibility = 'staff_only' or owner_user_id = ?) order by last_name_folded, id limit 50`,
  );
  // The tenant condition as a filter (+): without planner statistics for it (Lethe gathers none),
  // SQLite would otherwise walk the tenant's creation-date index and probe the attribute per contact.
  const byAttribute = raw.prepare(
    `select c.* from contact_attribute_values v join contacts c on c.id = v.contact_id
     where v.attribute_id = ? and v.value_text = ? and +c.institution_id = ? and c.approval_status <> 'rejected' and c.id not in (select contact_id from disabled_contacts)
     and (c.visibility = 'everyone' or c.visibility = 'staff_only' or c.owner_user_id = ?) order by v.contact_id desc limit 50`,
  );
  const combined = raw.prepare(
    `select c.* from contacts c where c.institution_id = ? and c.last_name_folded >= ? and c.last_name_folded < ? and c.approval_status <> 'rejected' and c.id not in (select contact_id from disabled_contacts)
     and (c.visibility = 'everyone' or c.owner_user_id = ?)
     and exists (select 1 from contact_attribute_values v where v.contact_id = c.id and v.attribute_id = ? and v.value_text = ?)
     order by c.last_name_folded, c.id limit 50`,
  );

  const random = rng(42);
  const pick = (n: number) => Math.floor(random() * n);
  const queries = (): Query[] => {
    const i = pick(COUNT);
    const prefix = lastNameOf(pick(COUNT)).slice(0, 3);
    const [from, to] = prefixRange(foldName(prefix));
    const program = programs[pick(programs.length)];
    return [
      { kind: 'email', filters: { email: emailOf(i) }, viewer: staff, raw: () => byEmail.all(meta.institutionId, emailOf(i), null) },
      { kind: 'last_name_prefix', filters: { lastName: prefix }, viewer: staff, raw: () => byLastName.all(meta.institutionId, from, to, null) },
      {
        kind: 'attribute_eq',
        filters: { attributes: [{ key: 'program', op: 'eq', values: [program] }] },
        viewer: staff,
        raw: () => byAttribute.all(meta.attributeId, program, meta.institutionId, null),
      },
      {
        kind: 'combined_employer_view',
        filters: { lastName: prefix, attributes: [{ key: 'program', op: 'eq', values: [program] }] },
        viewer: employer,
        raw: () => combined.all(meta.institutionId, from, to, meta.ownerUserId, meta.attributeId, program),
      },
    ];
  };

  const product: Record<string, number[]> = {};
  const baseline: Record<string, number[]> = {};
  // warm up caches for both sides equally
  for (let r = 0; r < 20; r++) for (const q of queries()) {
    await searchDirectory(ctx, meta.institutionId, q.viewer, { ...q.filters, limit: 50 });
    q.raw();
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const q of queries()) {
      let t = performance.now();
      await searchDirectory(ctx, meta.institutionId, q.viewer, { ...q.filters, limit: 50 });
      (product[q.kind] ??= []).push(performance.now() - t);
      t = performance.now();
      q.raw();
      (baseline[q.kind] ??= []).push(performance.now() - t);
    }
    if (r % 50 === 0) process.stderr.write(`\r  round ${r} / ${ROUNDS}`);
  }
  process.stderr.write('\n');
  raw.close();
  await store.close();

  const all = Object.values(product).flat();
  const allBase = Object.values(baseline).flat();
  const perKind = Object.fromEntries(
    Object.keys(product).map((k) => [k, { p50_ms: +percentile(product[k], 50).toFixed(3), p99_ms: +percentile(product[k], 99).toFixed(3), raw_p99_ms: +percentile(baseline[k], 99).toFixed(3) }]),
  );
  return [
    figure('directory.filter_p99_ms', percentile(all, 99), 'ms', percentile(allBase, 99), {
      contacts: COUNT,
      target: 'p99 <= 20 ms',
      perKind,
      baselineIs: 'hand-written indexed SQL through raw better-sqlite3',
    }),
  ];
}
