import { sql } from 'kysely';
import type { Db } from '../context.ts';
import { rankOf, supersedes, type Recency, type RecencyReason } from './recency-rules.ts';
import { recomputeRecency } from './recency-rebuild.ts';
import { fanOutRows, type OnConflict } from '../db/compiled-once.ts';

export interface RecencyNote {
  institutionId: string;
  contactId: string;
  at: string;
  reason: Exclude<RecencyReason, 'created'>;
  sourceId?: string | null;
}

/**
 * Moves contacts' stored recency forward, in the caller's transaction, when a qualifying event is
 * later than (or, at the same instant, ranks above) what is stored: one multi-row upsert whose
 * conflict clause keeps the better of the two, so concurrent writers cannot move it back (one
 * statement per batch of rows).
 * Callers: the ticketing API, and recordActivity for link clicks, criterion and authorization changes.
 */
export async function noteRecency(trx: Db, notes: RecencyNote[]): Promise<void> {
  if (notes.length === 0) return;
  // One row per contact per statement (PostgreSQL refuses to update a row twice in one upsert).
  const best = new Map<string, RecencyNote>();
  for (const n of notes) {
    const held = best.get(n.contactId);
    if (!held || supersedes(n, held)) best.set(n.contactId, n);
  }
  // Stored as UTC ISO strings, whatever form the notes came in; a bulk chunk's notes share one instant.
  const utc = new Map<string, string>();
  const toUtc = (at: string) => {
    let iso = utc.get(at);
    if (iso === undefined) utc.set(at, (iso = new Date(at).toISOString()));
    return iso;
  };
  const rows = [...best.values()].map((n) => ({
    contact_id: n.contactId,
    institution_id: n.institutionId,
    recency_at: toUtc(n.at),
    reason: n.reason,
    rank: rankOf(n.reason),
    source_id: n.sourceId ?? null,
  }));
  await fanOutRows(trx, 'contact_recency', rows, 'contact_id', keepLater);
}

/** A stored recency moves only forward: to a later instant, or at the same one to a higher-ranked reason. */
const keepLater: OnConflict<'contact_recency'> = {
  name: 'keep-later',
  clause: (insert) =>
    insert.onConflict((oc) =>
      oc
        .column('contact_id')
        .doUpdateSet((eb) => ({
          recency_at: eb.ref('excluded.recency_at'),
          reason: eb.ref('excluded.reason'),
          rank: eb.ref('excluded.rank'),
          source_id: eb.ref('excluded.source_id'),
        }))
        .where((eb) =>
          eb.or([
            eb('contact_recency.recency_at', '<', eb.ref('excluded.recency_at')),
            eb.and([eb('contact_recency.recency_at', '=', eb.ref('excluded.recency_at')), eb('contact_recency.rank', '<', eb.ref('excluded.rank'))]),
          ]),
        ),
    ),
};

/** The activity events that count for recency (seed 004), as the contacts and workflows domains record them. */
export interface ActivityLike {
  institutionId: string;
  contactId: string;
  type: string;
  occurredAt: string;
  data?: Record<string, unknown>;
}

export function recencyNotesOf(events: ActivityLike[]): RecencyNote[] {
  const notes: RecencyNote[] = [];
  for (const e of events) {
    const reason = recencyReasonOf(e);
    if (reason) notes.push({ institutionId: e.institutionId, contactId: e.contactId, at: e.occurredAt, reason });
  }
  return notes;
}

function recencyReasonOf(e: ActivityLike): RecencyNote['reason'] | null {
  if (e.type === 'link.clicked') return 'link_click';
  if (e.type === 'contact.criterion_changed') return 'criterion_change';
  if (e.type === 'consent.authorization_changed' && e.data?.anyGranted === true) return 'authorization_change';
  return null;
}

/**
 * Called with every batch of activity written (one line in src/activity/events.ts). A merge moves
 * the other contact's orders, options and activity onto the survivor (and drops one of the two
 * recency rows), so the survivor's recency is recomputed from its records instead.
 */
export async function noteActivityRecency(trx: Db, events: ActivityLike[]): Promise<void> {
  const merged = new Set(events.filter((e) => e.type === 'contact.merged').map((e) => e.contactId));
  await noteRecency(trx, recencyNotesOf(merged.size ? events.filter((e) => !merged.has(e.contactId)) : events));
  for (const contactId of merged) {
    const institutionId = events.find((e) => e.contactId === contactId)!.institutionId;
    await recomputeRecency(trx, { institutionId, contactIds: [contactId] });
  }
}

/** A contact's recency and the event that set it (its creation date when nothing has). */
export async function readRecency(db: Db, institutionId: string, contactId: string): Promise<Recency | null> {
  const row = await db
    .selectFrom('contacts as c')
    .leftJoin('contact_recency as r', 'r.contact_id', 'c.id')
    .select(['c.created_at', 'r.recency_at', 'r.reason', 'r.source_id'])
    .where('c.institution_id', '=', institutionId)
    .where('c.id', '=', contactId)
    .executeTakeFirst();
  if (!row) return null;
  if (!row.recency_at) return { at: row.created_at, reason: 'created', sourceId: null };
  return { at: row.recency_at, reason: row.reason as RecencyReason, sourceId: row.source_id };
}

/** Each contact's effective recency as an SQL expression (stored, else the creation date). */
export const effectiveRecency = sql<string>`coalesce(r.recency_at, c.created_at)`;
