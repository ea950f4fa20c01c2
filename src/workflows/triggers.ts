import type { Db } from '../context.ts';
import { newId } from '../ids.ts';
import type { Trigger } from './definition.ts';
import { loadVersion } from './versions.ts';

/** The activity an enrollment can start from: what the contact services record in every write. */
export interface TriggerEvent {
  institutionId: string;
  contactId: string;
  type: string;
  occurredAt: string;
  data?: Record<string, unknown>;
}

const triggerOfActivity: Record<string, Trigger['type']> = {
  'contact.created': 'contact_created',
  'consent.opt_in_changed': 'consent_changed',
  'consent.authorization_changed': 'consent_changed',
  'contact.criterion_changed': 'attribute_changed',
};

/** Whether an activity event starts a workflow with this trigger (pure). */
export function triggerMatches(trigger: Trigger, event: TriggerEvent): boolean {
  const data = event.data ?? {};
  switch (trigger.type) {
    case 'contact_created':
      return event.type === 'contact.created' && (!trigger.sources || trigger.sources.includes(data.source as never));
    case 'consent_changed':
      if (trigger.purpose !== undefined) {
        return event.type === 'consent.authorization_changed' && Object.hasOwn((data.changes as object | undefined) ?? {}, trigger.purpose);
      }
      return event.type === 'consent.opt_in_changed' && (trigger.optIn === undefined || data.to === trigger.optIn);
    case 'attribute_changed':
      return event.type === 'contact.criterion_changed' && Array.isArray(data.attributes) && data.attributes.includes(trigger.key);
    case 'manual':
    case 'schedule':
      return false;
  }
}

export interface NewEnrollment {
  institutionId: string;
  workflowId: string;
  version: number;
  contactId: string;
  trigger: string;
  at: string;
}

/** Inserts enrollments, skipping contacts already running in that workflow (the unique index decides, on both engines). */
export async function insertEnrollments(db: Db, list: NewEnrollment[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < list.length; i += 500) {
    const result = await db
      .insertInto('workflow_enrollments')
      .values(
        list.slice(i, i + 500).map((e) => ({
          id: newId(),
          institution_id: e.institutionId,
          workflow_id: e.workflowId,
          version: e.version,
          contact_id: e.contactId,
          state: 'active' as const,
          open: 1 as const,
          step_id: null,
          next_run_at: e.at,
          attempts: 0,
          lease_owner: null,
          lease_expires_at: null,
          trigger: e.trigger,
          reason: null,
          created_at: e.at,
          updated_at: e.at,
          finished_at: null,
        })),
      )
      .onConflict((oc) => oc.columns(['workflow_id', 'contact_id', 'open']).doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return inserted;
}

/**
 * Called by recordActivity for every activity it writes, in the same transaction: a contact
 * created, a consent or an attribute changed enrolls the contact in each active workflow whose
 * trigger matches, so the enrollment exists if and only if the change commits. Costs nothing
 * for other activity, and one index probe per write otherwise.
 */
export async function enrollOnActivity(db: Db, events: readonly TriggerEvent[]): Promise<number> {
  const relevant = events.filter((e) => e.type in triggerOfActivity);
  if (relevant.length === 0) return 0;
  const institutions = [...new Set(relevant.map((e) => e.institutionId))];
  const types = [...new Set(relevant.map((e) => triggerOfActivity[e.type]))];
  const workflows = await db
    .selectFrom('workflows')
    .select(['id', 'institution_id', 'current_version'])
    .where('institution_id', 'in', institutions)
    .where('trigger_type', 'in', types)
    .where('status', '=', 'active')
    .execute();
  if (workflows.length === 0) return 0;
  const wanted: NewEnrollment[] = [];
  for (const w of workflows) {
    const { trigger } = await loadVersion(db, w.id, w.current_version);
    for (const e of relevant) {
      if (e.institutionId === w.institution_id && triggerMatches(trigger, e)) {
        wanted.push({ institutionId: e.institutionId, workflowId: w.id, version: w.current_version, contactId: e.contactId, trigger: trigger.type, at: e.occurredAt });
      }
    }
  }
  return wanted.length ? insertEnrollments(db, wanted) : 0;
}
