import type { Db } from '../context.ts';
import { newId } from '../ids.ts';

/**
 * Erasure events for downstream systems (F8): they carry ids only, never personal data, so a
 * subscriber learns which record to erase and nothing about the person.
 */
export const webhookEventTypes = ['contact.deleted', 'contact.expunged', 'contact.restored', 'contact.anonymised'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export interface ContactEvent {
  type: WebhookEventType;
  contactId: string;
  /** ids and enum values only */
  data?: Record<string, string | number | boolean | null>;
}

export interface EventEnvelope {
  id: string;
  type: string;
  occurredAt: string;
  institutionId: string;
  data: Record<string, unknown>;
}

/**
 * Queues one delivery per subscriber of each event, in the caller's transaction: the event
 * goes out if and only if the change it announces commits.
 */
export async function emitContactEvents(trx: Db, institutionId: string, occurredAt: string, events: ContactEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const subscriptions = await trx
    .selectFrom('webhook_subscriptions')
    .select(['id', 'events'])
    .where('institution_id', '=', institutionId)
    // Paused subscriptions still get their deliveries queued: they go out when it is switched back on.
    .execute();
  if (subscriptions.length === 0) return 0;
  const wanted = subscriptions.map((s) => ({ id: s.id, events: new Set(JSON.parse(s.events) as string[]) }));
  const rows = [];
  for (const e of events) {
    const envelope: EventEnvelope = { id: newId(), type: e.type, occurredAt, institutionId, data: { contactId: e.contactId, ...e.data } };
    const payload = JSON.stringify(envelope);
    for (const s of wanted) {
      if (!s.events.has(e.type)) continue;
      rows.push({
        id: newId(),
        institution_id: institutionId,
        subscription_id: s.id,
        event_id: envelope.id,
        event_type: e.type,
        payload,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: occurredAt,
        lease_expires_at: null,
        last_status_code: null,
        last_error: null,
        created_at: occurredAt,
        delivered_at: null,
      });
    }
  }
  for (let i = 0; i < rows.length; i += 500) await trx.insertInto('webhook_deliveries').values(rows.slice(i, i + 500)).execute();
  return rows.length;
}
