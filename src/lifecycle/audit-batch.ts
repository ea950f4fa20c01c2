import { createCipheriv, randomBytes } from 'node:crypto';
import type { AppContext, Db } from '../context.ts';
import { entryHash, GENESIS, type AuditInput } from '../audit/audit-log.ts';
import { open, seal } from '../security/aead.ts';
import { insertRows } from '../db/compiled-once.ts';

type Deps = Pick<AppContext, 'clock' | 'secrets' | 'store'>;
type Entry = Omit<AuditInput, 'institutionId'>;

/**
 * Appends many entries to one institution's audit chain in the caller's transaction: the same
 * entries recordAudit would write one by one (same hash chain, same sealing with each subject's
 * data key), but with one head read, one key look-up and one multi-row insert per batch. Bulk
 * jobs write one entry per contact, and at 100,000 contacts the per-entry round trips are the cost.
 */
export async function appendAuditBatch(deps: Deps, trx: Db, institutionId: string, entries: Entry[]): Promise<void> {
  if (entries.length === 0) return;
  const now = deps.clock.now().toISOString();
  const keys = await dataKeysFor(deps, trx, institutionId, [...new Set(entries.flatMap((e) => (e.subjectId ? [e.subjectId] : [])))], now);

  const readHead = () => {
    const q = trx.selectFrom('audit_chain_heads').selectAll().where('chain', '=', institutionId);
    return (deps.store.kind === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  };
  let head = await readHead();
  if (!head) {
    await trx
      .insertInto('audit_chain_heads')
      .values({ chain: institutionId, last_seq: 0, last_hash: GENESIS, anchor_hash: GENESIS })
      .onConflict((oc) => oc.column('chain').doNothing())
      .execute();
    head = (await readHead())!;
  }

  // One draw from the CSPRNG for every IV of the batch: per-call randomBytes dominates at 100,000 entries.
  const ivs = randomBytes(12 * 2 * entries.length);
  let nextIv = 0;
  const sealWith = (key: Buffer, json: string, aad: string) => sealWithIv(key, ivs.subarray(12 * nextIv, 12 * ++nextIv), json, aad);
  let prev = head.last_hash;
  const rows = entries.map((e) => {
    const key = e.subjectId ? keys.get(e.subjectId)! : null;
    const encode = (value: unknown) => {
      if (value === undefined || value === null) return null;
      const json = JSON.stringify(value);
      return key ? sealWith(key, json, e.subjectId!) : json;
    };
    const fields = {
      chain: institutionId,
      institution_id: institutionId,
      actor_user_id: e.actor.userId,
      actor_label: e.actor.label,
      action: e.action,
      target_type: e.target.type,
      target_id: e.target.id,
      subject_id: e.subjectId ?? null,
      before_enc: encode(e.before),
      after_enc: encode(e.after),
      meta: e.meta ? JSON.stringify(e.meta) : null,
      occurred_at: now,
      prev_hash: prev,
    };
    const hash = entryHash(fields);
    prev = hash;
    return { ...fields, hash };
  });
  // Rows take their seq in insert order, which is chain order; the head lock keeps other writers out.
  let lastSeq = 0;
  for (let i = 0; i < rows.length; i += 1000) {
    const inserted = await insertRows(trx, 'audit_log', rows.slice(i, i + 1000), 'seq');
    lastSeq = Math.max(lastSeq, ...inserted.rows.map((r) => Number(r.seq)));
  }
  await trx.updateTable('audit_chain_heads').set({ last_seq: lastSeq, last_hash: prev }).where('chain', '=', institutionId).execute();
}

/** aead.ts's seal ("v1.<iv>.<tag>.<ciphertext>", AES-256-GCM), with the IV given; open() reads it as any other. */
function sealWithIv(key: Buffer, iv: Buffer, plaintext: string, aad: string): string {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

/** Each subject's data key, created (and wrapped with the master key) for subjects that have none yet. */
async function dataKeysFor(deps: Deps, trx: Db, institutionId: string, subjectIds: string[], now: string): Promise<Map<string, Buffer>> {
  const keys = new Map<string, Buffer>();
  const master = deps.secrets.masterKey;
  for (let i = 0; i < subjectIds.length; i += 1000) {
    const slice = subjectIds.slice(i, i + 1000);
    const stored = await trx.selectFrom('data_keys').select(['subject_id', 'wrapped_key']).where('subject_id', 'in', slice).execute();
    for (const s of stored) keys.set(s.subject_id, open(master, s.wrapped_key, s.subject_id));
    const missing = slice.filter((id) => !keys.has(id));
    if (missing.length === 0) continue;
    const fresh = missing.map((id) => ({ id, key: randomBytes(32) }));
    const inserted = await trx
      .insertInto('data_keys')
      .values(fresh.map((f) => ({ subject_id: f.id, institution_id: institutionId, wrapped_key: seal(master, f.key, f.id), created_at: now })))
      .onConflict((oc) => oc.column('subject_id').doNothing())
      .executeTakeFirst();
    for (const f of fresh) keys.set(f.id, f.key);
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === fresh.length) continue;
    // A concurrent writer created some of these first; its key is the one stored.
    const winners = await trx.selectFrom('data_keys').select(['subject_id', 'wrapped_key']).where('subject_id', 'in', missing).execute();
    for (const w of winners) keys.set(w.subject_id, open(master, w.wrapped_key, w.subject_id));
  }
  return keys;
}
