import type { Db } from '../context.ts';
import { fanOutRows } from '../db/compiled-once.ts';
import { enrollOnActivity } from '../workflows/triggers.ts';
import { noteActivityRecency } from '../retention/recency-store.ts';

/**
 * What happened to a contact, append-only. Retention computes recency from these and workflows
 * trigger on them, so every type is named here, with the data it carries (never PII beyond ids).
 */
export const activityTypes = [
  'contact.created',
  'contact.updated',
  'contact.criterion_changed',
  'contact.employer_changed',
  'contact.approval_changed',
  'contact.visibility_changed',
  'consent.opt_in_changed',
  'consent.authorization_changed',
  'note.added',
  'meeting.added',
  'task.added',
  'task.completed',
  // intake: data { applicationId, formId, status } / { applicationId, formId, policy }
  'application.submitted',
  'application.merged',
  // workflows: a tracked link (or the consent-renewal link) was clicked; data { kind, workflowId }
  'link.clicked',
] as const;
export type ActivityType = (typeof activityTypes)[number] | (string & {});

export interface ActivityInput {
  institutionId: string;
  contactId: string;
  organizationId: string | null;
  actorUserId: string | null;
  type: ActivityType;
  occurredAt: string;
  data?: Record<string, unknown>;
}

export async function recordActivity(db: Db, events: ActivityInput | ActivityInput[]): Promise<void> {
  const list = Array.isArray(events) ? events : [events];
  if (list.length === 0) return;
  // A bulk chunk's events share their data objects (contact-changes.ts): each is serialised once.
  const json = new Map<object, string>();
  const rows = list.map((e) => {
    let data: string | null = null;
    if (e.data) {
      data = json.get(e.data) ?? null;
      if (data === null) json.set(e.data, (data = JSON.stringify(e.data)));
    }
    return { institution_id: e.institutionId, contact_id: e.contactId, organization_id: e.organizationId, actor_user_id: e.actorUserId, type: e.type, occurred_at: e.occurredAt, data };
  });
  // Most writes record one event; a bulk chunk records the same few events for a thousand contacts.
  await fanOutRows(db, 'activity_events', rows, 'contact_id');
  // Workflow triggers (contact created, consent or attribute changed) enroll in the same transaction.
  await enrollOnActivity(db, list);
  // Seed 004: link clicks, criterion and authorization changes move the contact's recency, in the same transaction.
  await noteActivityRecency(db, list);
}

export interface ActivityView {
  seq: number;
  type: string;
  occurredAt: string;
  organizationId: string | null;
  actorUserId: string | null;
  data: Record<string, unknown> | null;
}

/** A contact's timeline in the order it was recorded, newest first, with a seq cursor. */
export async function listActivity(
  db: Db,
  institutionId: string,
  contactId: string,
  opts: { beforeSeq?: number; limit: number; types?: string[] },
): Promise<ActivityView[]> {
  let q = db
    .selectFrom('activity_events')
    .selectAll()
    .where('institution_id', '=', institutionId)
    .where('contact_id', '=', contactId);
  if (opts.beforeSeq !== undefined) q = q.where('seq', '<', opts.beforeSeq);
  if (opts.types?.length) q = q.where('type', 'in', opts.types);
  const rows = await q.orderBy('seq', 'desc').limit(opts.limit).execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    type: r.type,
    occurredAt: r.occurred_at,
    organizationId: r.organization_id,
    actorUserId: r.actor_user_id,
    data: r.data ? JSON.parse(r.data) : null,
  }));
}
