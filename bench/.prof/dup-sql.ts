import SQLite from 'better-sqlite3';
import pino from 'pino';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { openSqlite } from '../../src/db/connect.ts';
import { openContext } from '../../src/runtime.ts';
import { findDuplicates } from '../../src/intake/duplicates.ts';
import { emailOf } from '../generate-contacts.ts';
const file = path.resolve('bench/results/.dupcheck-1000000.db');
const meta = JSON.parse((await import('node:fs')).readFileSync(file + '.json', 'utf8'));
const raw = new SQLite(file, { readonly: true });
const mobileOf = (i: number) => `+1212${300 + Math.floor(i / 10_000)}${String(i % 10_000).padStart(4, '0')}`;
const cols = 'id, organization_id, first_name, last_name, first_name_folded, last_name_folded, email, email_normalized, mobile_phone, mobile_e164, ssn_hash_full, ssn_hash_last6, ssn_hash_last4, visibility, owner_user_id, source, approval_status, created_at, updated_at';
const withNot = raw.prepare(`select ${cols} from contacts where institution_id = ? and email_normalized = ? and not exists (select contact_id from disabled_contacts where disabled_contacts.contact_id = contacts.id) union all select ${cols} from contacts where institution_id = ? and mobile_e164 = ? and not exists (select contact_id from disabled_contacts where disabled_contacts.contact_id = contacts.id)`);
const without = raw.prepare(`select ${cols} from contacts where institution_id = ? and email_normalized = ? union all select ${cols} from contacts where institution_id = ? and mobile_e164 = ?`);
console.log(raw.prepare('explain query plan ' + withNot.source).all('a','b','c','d').map((r: any) => r.detail).join('\n'));
const N = 20000;
for (const [name, st] of [['withNot', withNot], ['without', without]] as const) {
  const t = performance.now();
  for (let k = 0; k < N; k++) { const i = (k * 7919) % 1_000_000; st.all(meta.institutionId, emailOf(i), meta.institutionId, mobileOf(i)); }
  console.log(name, ((performance.now() - t) / N * 1000).toFixed(1), 'µs');
}
const store = openSqlite(file);
const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: path.dirname(file), LETHE_SECRET: 'bench-secret-0123456789abcdef0123456789', LOG_LEVEL: 'silent' }), { store, log: pino({ level: 'silent' }) });
const rule = { identifier: 'email_or_mobile', lastName: false, ssn: 'none' } as const;
const samples: number[] = [];
for (let k = 0; k < N; k++) { const i = (k * 7919) % 1_000_000; const t = performance.now(); await findDuplicates(ctx.db, meta.institutionId, rule, { emailNormalized: emailOf(i), mobileE164: mobileOf(i) }); samples.push((performance.now() - t) * 1000); }
samples.sort((a, b) => a - b);
console.log('findDuplicates p50', samples[N / 2].toFixed(1), 'p90', samples[Math.floor(N * 0.9)].toFixed(1), 'p99', samples[Math.floor(N * 0.99)].toFixed(1), 'max', samples[N - 1].toFixed(0));
await store.close();
