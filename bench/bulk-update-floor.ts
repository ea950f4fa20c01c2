import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { BULK_CACHE_KIB, BULK_WAL_AUTOCHECKPOINT } from '../src/db/bulk-writing.ts';
import { BULK_CHUNK } from '../src/lifecycle/bulk/bulk-job.ts';
import { checkpointAlongside } from '../src/db/background-checkpoints.ts';

/**
 * The floor under bulk.update_per_s: only the rows the issue requires a bulk update to write, as
 * bare set-based SQL on the same file with the product's settings and chunk size, and nothing
 * else (no validation, no JSON, no encryption, no hash chain). Per contact: its row read with the
 * stored attribute value, the visibility update, the attribute upsert, the three activity events
 * (contact.updated, contact.visibility_changed, contact.criterion_changed: seed 004 counts a
 * criterion change as activity), the recency upsert, its data key read and one audit row of the
 * size the product's sealed entries have. Checkpoints run on a second thread meanwhile, and the
 * WAL restarts between chunks, as the product's do. No implementation of the product can be
 * faster than this on the same machine.
 */
export async function bareWritesFloor(file: string, institutionId: string, statusAttributeId: string, selected: string[]): Promise<{ seconds: number; perSecond: number }> {
  const db = new SQLite(file);
  for (const setting of ['journal_mode = WAL', 'synchronous = NORMAL', 'foreign_keys = ON', 'secure_delete = ON', 'temp_store = memory']) db.pragma(setting);
  db.pragma(`wal_autocheckpoint = ${BULK_WAL_AUTOCHECKPOINT}`);
  db.pragma(`cache_size = -${BULK_CACHE_KIB}`);
  db.exec('create temp table chosen (contact_id text primary key)');
  const choose = db.prepare('insert into chosen values (?)');
  db.transaction(() => selected.forEach((id) => choose.run(id)))();
  const ids = [...selected].sort();
  const now = new Date().toISOString();
  const range = 'contact_id between ? and ?';
  // +attribute_id: the stored value by primary key, whatever the file's statistics say
  const read = db.prepare(
    `select c.id, c.visibility, c.updated_at, c.organization_id, v.value_text from chosen s cross join contacts c on c.id = s.contact_id
     left join contact_attribute_values v on v.contact_id = c.id and +v.attribute_id = ? where s.contact_id between ? and ?`,
  );
  const keys = db.prepare(`select subject_id, wrapped_key from data_keys where subject_id in (select contact_id from chosen where ${range})`);
  const update = db.prepare(`update contacts set visibility = 'staff_only', updated_at = ? where id in (select contact_id from chosen where ${range})`);
  const upsert = db.prepare(
    `insert into contact_attribute_values (contact_id, attribute_id, institution_id, value_text, value_number) select contact_id, ?, ?, 'alumni 2026', null from chosen where ${range}
     on conflict (contact_id, attribute_id) do update set value_text = excluded.value_text`,
  );
  const events = db.prepare(
    `insert into activity_events (institution_id, contact_id, organization_id, actor_user_id, type, occurred_at, data)
     select ?, contact_id, null, null, e.type, ?, e.data from chosen,
       (select 'contact.updated' as type, '{"fields":["visibility","attributes.status"]}' as data
        union all select 'contact.visibility_changed', '{"from":"everyone","to":"staff_only"}'
        union all select 'contact.criterion_changed', '{"attributes":["status"]}') e
     where ${range}`,
  );
  const recency = db.prepare(
    `insert into contact_recency (contact_id, institution_id, recency_at, reason, rank, source_id) select contact_id, ?, ?, 'contact.criterion_changed', 1, null from chosen where ${range}
     on conflict (contact_id) do update set recency_at = excluded.recency_at, reason = excluded.reason, rank = excluded.rank`,
  );
  const audit = db.prepare(
    `insert into audit_log (chain, institution_id, actor_user_id, actor_label, action, target_type, target_id, subject_id, before_enc, after_enc, meta, occurred_at, prev_hash, hash)
     values (?, ?, null, 'system', 'contact.bulk_update', 'contact', ?, ?, ?, ?, '{"fields":["visibility","attributes.status"]}', ?, ?, ?)`,
  );
  // Sealed entries are "v1.<iv>.<tag>.<ciphertext>": random text of that size, drawn before timing.
  const noise = randomBytes(64 * 1024).toString('base64url');
  const sealedSize = (i: number) => `v1.${noise.slice(i % 60_000, (i % 60_000) + 120)}`;
  const hash = 'f'.repeat(64);

  let audited = 0;
  const started = performance.now();
  const checkpoints = checkpointAlongside(file);
  for (let i = 0; i < ids.length; i += BULK_CHUNK) {
    await checkpoints.betweenTransactions();
    const [from, to] = [ids[i], ids[Math.min(ids.length, i + BULK_CHUNK) - 1]];
    db.transaction(() => {
      const rows = read.all(statusAttributeId, from, to) as { id: string }[];
      keys.all(from, to);
      update.run(now, from, to);
      upsert.run(statusAttributeId, institutionId, from, to);
      events.run(institutionId, now, from, to);
      recency.run(institutionId, now, from, to);
      audited += rows.length;
      rows.forEach((r, n) => audit.run(institutionId, institutionId, r.id, r.id, sealedSize(n), sealedSize(n + 7), now, hash, hash));
    })();
  }
  await checkpoints.stop();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const seconds = (performance.now() - started) / 1000;
  const written = db.prepare(`select (select count(*) from activity_events where occurred_at = ?) as events, (select count(*) from contact_recency where recency_at = ?) as recency`).get(now, now) as { events: number; recency: number };
  db.close();
  if (audited !== selected.length || written.events !== 3 * selected.length || written.recency !== selected.length) {
    throw new Error(`the floor wrote ${audited} audit rows, ${written.events} events and ${written.recency} recency rows for ${selected.length} contacts`);
  }
  return { seconds, perSecond: selected.length / seconds };
}
