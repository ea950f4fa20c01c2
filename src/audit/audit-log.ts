import { hash as digest } from 'node:crypto';
import type { AppContext, Db } from '../context.ts';
import type { AuditLogTable } from '../db/schema.ts';
import type { Selectable } from 'kysely';
import { open, seal } from '../security/aead.ts';
import { dataKeyFor, existingDataKey } from './data-keys.ts';
import { compiledOnce } from '../db/compiled-once.ts';

export const GENESIS = 'genesis';

export interface Actor {
  userId: string | null;
  /** shown in the log: a user's id-free label like "user:<id>", "cli", "system" — never an email */
  label: string;
}

export const systemActor: Actor = { userId: null, label: 'system' };
export const cliActor: Actor = { userId: null, label: 'cli' };

export interface AuditInput {
  institutionId: string | null;
  actor: Actor;
  action: string;
  target: { type: string; id: string | null };
  /** the contact or user whose data key seals before/after; without one, before/after must hold no PII */
  subjectId?: string | null;
  /** the subject was created in this transaction, so it has no key yet: one is made without looking */
  newSubject?: boolean;
  before?: unknown;
  after?: unknown;
  meta?: Record<string, unknown>;
}

type AuditRow = Selectable<AuditLogTable>;
type HashedFields = Omit<AuditRow, 'seq' | 'hash'>;

export function entryHash(row: HashedFields): string {
  const canonical = JSON.stringify([
    row.prev_hash,
    row.chain,
    row.institution_id,
    row.actor_user_id,
    row.actor_label,
    row.action,
    row.target_type,
    row.target_id,
    row.subject_id,
    row.before_enc,
    row.after_enc,
    row.meta,
    row.occurred_at,
  ]);
  return digest('sha256', canonical, 'hex');
}

type AuditDeps = Pick<AppContext, 'clock' | 'secrets' | 'store'>;

/**
 * Appends one entry to the institution's hash chain, in the caller's transaction when given one,
 * so the audit entry commits or rolls back with the change it describes.
 */
export async function recordAudit(deps: AuditDeps, db: Db, input: AuditInput): Promise<void> {
  if (!db.isTransaction) {
    await db.transaction().execute((trx) => recordAudit(deps, trx, input));
    return;
  }
  const now = deps.clock.now().toISOString();
  const chain = input.institutionId ?? '';
  const key = input.subjectId ? await dataKeyFor(db, deps.secrets.masterKey, input.subjectId, input.institutionId, now, { fresh: input.newSubject }) : null;
  const encode = (value: unknown) => {
    if (value === undefined || value === null) return null;
    const json = JSON.stringify(value);
    return key ? seal(key, json, input.subjectId!) : json;
  };

  // The head row is the lock that serialises appends to one chain across processes.
  const readHead = () => (deps.store.kind === 'postgres' ? chainHeadForUpdate : chainHead).executeTakeFirst(db, { chain });
  let head = await readHead();
  if (!head) {
    await db
      .insertInto('audit_chain_heads')
      .values({ chain, last_seq: 0, last_hash: GENESIS, anchor_hash: GENESIS })
      .onConflict((oc) => oc.column('chain').doNothing())
      .execute();
    head = (await readHead())!;
  }

  const fields: HashedFields = {
    chain,
    institution_id: input.institutionId,
    actor_user_id: input.actor.userId,
    actor_label: input.actor.label,
    action: input.action,
    target_type: input.target.type,
    target_id: input.target.id,
    subject_id: input.subjectId ?? null,
    before_enc: encode(input.before),
    after_enc: encode(input.after),
    meta: input.meta ? JSON.stringify(input.meta) : null,
    occurred_at: now,
    prev_hash: head.last_hash,
  };
  const hash = entryHash(fields);
  const inserted = (await appendEntry.executeTakeFirst(db, { ...fields, hash }))!;
  await moveChainHead.execute(db, { chain, last_seq: Number(inserted.seq), last_hash: hash });
}

const chainHead = compiledOnce((db, p: { chain: string }) => db.selectFrom('audit_chain_heads').selectAll().where('chain', '=', p.chain));
const chainHeadForUpdate = compiledOnce((db, p: { chain: string }) => db.selectFrom('audit_chain_heads').selectAll().where('chain', '=', p.chain).forUpdate());
const appendEntry = compiledOnce((db, p: HashedFields & { hash: string }) =>
  db
    .insertInto('audit_log')
    .values({
      chain: p.chain,
      institution_id: p.institution_id,
      actor_user_id: p.actor_user_id,
      actor_label: p.actor_label,
      action: p.action,
      target_type: p.target_type,
      target_id: p.target_id,
      subject_id: p.subject_id,
      before_enc: p.before_enc,
      after_enc: p.after_enc,
      meta: p.meta,
      occurred_at: p.occurred_at,
      prev_hash: p.prev_hash,
      hash: p.hash,
    })
    .returning('seq'),
);
const moveChainHead = compiledOnce((db, p: { chain: string; last_seq: number; last_hash: string }) =>
  db.updateTable('audit_chain_heads').set({ last_seq: p.last_seq, last_hash: p.last_hash }).where('chain', '=', p.chain),
);

export interface AuditEntryView {
  seq: number;
  occurredAt: string;
  institutionId: string | null;
  actorUserId: string | null;
  actorLabel: string;
  action: string;
  targetType: string;
  targetId: string | null;
  before: unknown;
  after: unknown;
  /** true when the subject's data key was destroyed: the entry exists but its data is gone for good */
  shredded: boolean;
  meta: Record<string, unknown> | null;
}

export interface AuditFilter {
  institutionId: string | null;
  action?: string;
  targetId?: string;
  actorUserId?: string;
  from?: string;
  to?: string;
  beforeSeq?: number;
  limit: number;
}

export async function listAudit(deps: AuditDeps & { db: Db }, filter: AuditFilter): Promise<AuditEntryView[]> {
  let q = deps.db.selectFrom('audit_log').selectAll().where('chain', '=', filter.institutionId ?? '');
  if (filter.action) q = filter.action.endsWith('.*') ? q.where('action', 'like', filter.action.slice(0, -1) + '%') : q.where('action', '=', filter.action);
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  if (filter.actorUserId) q = q.where('actor_user_id', '=', filter.actorUserId);
  if (filter.from) q = q.where('occurred_at', '>=', filter.from);
  if (filter.to) q = q.where('occurred_at', '<', filter.to);
  if (filter.beforeSeq !== undefined) q = q.where('seq', '<', filter.beforeSeq);
  const rows = await q.orderBy('seq', 'desc').limit(filter.limit).execute();

  const keys = new Map<string, Buffer | null>();
  const decode = async (row: AuditRow, value: string | null): Promise<{ value: unknown; shredded: boolean }> => {
    if (value === null) return { value: null, shredded: false };
    if (!row.subject_id) return { value: JSON.parse(value), shredded: false };
    if (!keys.has(row.subject_id)) keys.set(row.subject_id, await existingDataKey(deps.db, deps.secrets.masterKey, row.subject_id));
    const key = keys.get(row.subject_id);
    if (!key) return { value: null, shredded: true };
    return { value: JSON.parse(open(key, value, row.subject_id).toString('utf8')), shredded: false };
  };

  const views: AuditEntryView[] = [];
  for (const row of rows) {
    const before = await decode(row, row.before_enc);
    const after = await decode(row, row.after_enc);
    views.push({
      seq: Number(row.seq),
      occurredAt: row.occurred_at,
      institutionId: row.institution_id,
      actorUserId: row.actor_user_id,
      actorLabel: row.actor_label,
      action: row.action,
      targetType: row.target_type,
      targetId: row.target_id,
      before: before.value,
      after: after.value,
      shredded: before.shredded || after.shredded,
      meta: row.meta ? JSON.parse(row.meta) : null,
    });
  }
  return views;
}
