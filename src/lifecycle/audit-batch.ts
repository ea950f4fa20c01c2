import { randomBytes } from 'node:crypto';
import type { AppContext, Db } from '../context.ts';
import { entryHash, GENESIS, type AuditInput } from '../audit/audit-log.ts';
import { seal } from '../security/aead.ts';
import { sealForSubjects } from '../security/sealing-thread.ts';
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
  await (await prepareAuditBatch(deps, trx, institutionId, entries)).append();
}

/**
 * appendAuditBatch in two steps, so that the sealing (on the sealing thread for large batches)
 * runs while the caller writes the rest of its chunk: this looks up the subjects' keys and starts
 * sealing; append() then writes the entries onto the chain. The chain head is taken only by
 * append(), so the institution's other writers wait for the chain no longer than before.
 */
export async function prepareAuditBatch(deps: Deps, trx: Db, institutionId: string, entries: Entry[]): Promise<{ append(): Promise<void> }> {
  if (entries.length === 0) return { append: async () => {} };
  const now = deps.clock.now().toISOString();
  const wrappedKeys = await wrappedKeysFor(deps, trx, institutionId, [...new Set(entries.flatMap((e) => (e.subjectId ? [e.subjectId] : [])))], now);
  // Entries of a bulk chunk share their before/after/meta objects (contact-changes.ts): each is serialised once.
  const serialised = new Map<unknown, string>();
  const json = (value: unknown) => {
    if (value === undefined || value === null) return null;
    let text = serialised.get(value);
    if (text === undefined) serialised.set(value, (text = JSON.stringify(value)));
    return text;
  };
  const sealedEntries = entries.filter((e) => e.subjectId);
  const sealing = sealForSubjects(
    deps.secrets.masterKey,
    sealedEntries.map((e) => ({ subjectId: e.subjectId!, wrappedKey: wrappedKeys.get(e.subjectId!)!, values: [json(e.before), json(e.after)] })),
  );
  return { append: async () => appendSealed(deps, trx, institutionId, entries, await sealing.result(), json, now) };
}

async function appendSealed(
  deps: Deps,
  trx: Db,
  institutionId: string,
  entries: Entry[],
  sealed: (string | null)[][],
  json: (value: unknown) => string | null,
  now: string,
): Promise<void> {
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

  let prev = head.last_hash;
  let nextSealed = 0;
  const rows = entries.map((e) => {
    const [before, after] = e.subjectId ? sealed[nextSealed++] : [json(e.before), json(e.after)];
    const row = {
      chain: institutionId,
      institution_id: institutionId,
      actor_user_id: e.actor.userId,
      actor_label: e.actor.label,
      action: e.action,
      target_type: e.target.type,
      target_id: e.target.id,
      subject_id: e.subjectId ?? null,
      before_enc: before,
      after_enc: after,
      meta: json(e.meta),
      occurred_at: now,
      prev_hash: prev,
      hash: '',
    };
    row.hash = prev = entryHash(row);
    return row;
  });
  // Rows take their seq in insert order, which is chain order; the head lock keeps other writers out.
  let lastSeq = 0;
  if (deps.store.kind === 'sqlite') {
    // seq is the rowid, and the last row inserted has the highest: reading every row's back costs a fifth of the insert.
    lastSeq = Number((await insertRows(trx, 'audit_log', rows)).insertId);
  } else {
    for (const r of (await insertRows(trx, 'audit_log', rows, 'seq')).rows) lastSeq = Math.max(lastSeq, Number(r.seq));
  }
  await trx.updateTable('audit_chain_heads').set({ last_seq: lastSeq, last_hash: prev }).where('chain', '=', institutionId).execute();
}

/** Each subject's data key as stored (wrapped with the master key), created for subjects that have none yet. */
async function wrappedKeysFor(deps: Deps, trx: Db, institutionId: string, subjectIds: string[], now: string): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  const master = deps.secrets.masterKey;
  for (let i = 0; i < subjectIds.length; i += 1000) {
    const slice = subjectIds.slice(i, i + 1000);
    const stored = await trx.selectFrom('data_keys').select(['subject_id', 'wrapped_key']).where('subject_id', 'in', slice).execute();
    for (const s of stored) keys.set(s.subject_id, s.wrapped_key);
    const missing = slice.filter((id) => !keys.has(id));
    if (missing.length === 0) continue;
    const fresh = missing.map((id) => ({ subject_id: id, institution_id: institutionId, wrapped_key: seal(master, randomBytes(32), id), created_at: now }));
    const inserted = await trx
      .insertInto('data_keys')
      .values(fresh)
      .onConflict((oc) => oc.column('subject_id').doNothing())
      .executeTakeFirst();
    for (const f of fresh) keys.set(f.subject_id, f.wrapped_key);
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === fresh.length) continue;
    // A concurrent writer created some of these first; its key is the one stored.
    const winners = await trx.selectFrom('data_keys').select(['subject_id', 'wrapped_key']).where('subject_id', 'in', missing).execute();
    for (const w of winners) keys.set(w.subject_id, w.wrapped_key);
  }
  return keys;
}
