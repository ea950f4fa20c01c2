import type { Source, WorkflowEnrollmentState, WorkflowStep, WorkflowStepType, WorkflowTrigger, WorkflowTriggerType } from '../../types.ts';

/** Words for what a workflow does, shared by the list, the editor and the runs. */
export const TRIGGER_WORDS: Record<WorkflowTriggerType, string> = {
  contact_created: 'A contact is created',
  consent_changed: 'Consent changes',
  attribute_changed: 'An attribute changes',
  manual: 'Enrolled by hand',
  schedule: 'On a schedule',
};

export const STEP_WORDS: Record<WorkflowStepType, string> = {
  send_email: 'Send email',
  wait: 'Wait',
  condition: 'Condition',
  expunge: 'Expunge',
  anonymise: 'Anonymise',
  archive: 'Archive',
  set_attribute: 'Set attribute',
  notify_staff: 'Notify staff',
  webhook: 'Webhook',
};

export const STEP_TYPES = Object.keys(STEP_WORDS) as WorkflowStepType[];

export const SOURCE_WORDS: Record<Source, string> = {
  self_signup: 'Self sign-up',
  application: 'Application',
  manual: 'Created by staff',
  bulk_import: 'Bulk import',
  api: 'API',
};

export const STATE_WORDS: Record<WorkflowEnrollmentState, string> = {
  active: 'Running',
  paused: 'Paused',
  completed: 'Completed',
  failed: 'Failed',
  ended: 'Ended',
};

export function describeTrigger(t: WorkflowTrigger): string {
  switch (t.type) {
    case 'contact_created':
      return t.sources?.length ? `A contact is created (${t.sources.map((s) => SOURCE_WORDS[s] ?? s).join(', ')})` : 'A contact is created (any way)';
    case 'consent_changed':
      if (t.purpose) return `Authorization "${t.purpose}" changes`;
      return t.optIn ? `Opt-in becomes ${t.optIn.replace(/_/g, ' ')}` : 'Opt-in status changes';
    case 'attribute_changed':
      return `Attribute "${t.key}" changes`;
    case 'manual':
      return 'Enrolled by hand';
    case 'schedule':
      return `On schedule ${t.cron} (UTC)`;
  }
}

function plural(n: number | undefined, word: string): string | null {
  return n ? `${n} ${word}${n === 1 ? '' : 's'}` : null;
}

/** One line saying what a step does, e.g. "Wait 30 days" or "If opted in: go to end". */
export function describeStep(s: WorkflowStep): string {
  switch (s.type) {
    case 'send_email':
      return `Send ${s.send_email.category === 'transactional' ? 'transactional' : 'marketing'} email "${s.send_email.subject}"`;
    case 'wait': {
      const w = s.wait;
      if ('until' in w) return `Wait until ${w.until}`;
      const parts = [plural(w.days, 'day'), plural(w.hours, 'hour'), plural(w.minutes, 'minute')].filter(Boolean);
      return parts.length ? `Wait ${parts.join(' ')}` : 'Wait';
    }
    case 'condition': {
      const test = s.condition.if;
      const what =
        'optedIn' in test
          ? test.optedIn
            ? 'opted in'
            : 'not opted in'
          : 'attribute' in test
            ? `${test.attribute.key} = ${String(test.attribute.equals)}`
            : `authorization ${test.authorization.purpose} ${test.authorization.granted ? 'granted' : 'not granted'}`;
      const go = (target: string | undefined) => (target === undefined ? 'next step' : target === 'end' ? 'end' : `"${target}"`);
      return `If ${what}: go to ${go(s.condition.then)}, otherwise ${go(s.condition.else)}`;
    }
    case 'expunge':
      return `Expunge the contact${s.expunge.notify === false ? '' : ', with a confirmation email'}`;
    case 'anonymise':
      return 'Anonymise the contact (irreversible); the run ends';
    case 'archive':
      return 'Archive the contact';
    case 'set_attribute':
      return `Set ${s.set_attribute.key || '…'} to ${s.set_attribute.value === null ? 'nothing' : String(s.set_attribute.value)}`;
    case 'notify_staff':
      return `Email ${s.notify_staff.to.filter(Boolean).join(', ') || 'staff'}`;
    case 'webhook':
      return 'Call a webhook';
  }
}

/** A new step of a kind, with an id no other step has (so branches keep pointing at it when steps move). */
export function newStep(type: WorkflowStepType, taken: Set<string>): WorkflowStep {
  let n = 1;
  while (taken.has(`${type}_${n}`)) n++;
  const id = `${type}_${n}`;
  switch (type) {
    case 'send_email':
      return { id, type, send_email: { category: 'marketing', subject: '', text: '' } };
    case 'wait':
      return { id, type, wait: { days: 1 } };
    case 'condition':
      return { id, type, condition: { if: { optedIn: true } } };
    case 'expunge':
      return { id, type, expunge: { reason: 'no_consent', notify: true } };
    case 'anonymise':
      return { id, type, anonymise: {} };
    case 'archive':
      return { id, type, archive: { employer: true, doNotEmail: true, staffOnly: true } };
    case 'set_attribute':
      return { id, type, set_attribute: { key: '', value: '' } };
    case 'notify_staff':
      return { id, type, notify_staff: { to: [''], subject: '', text: '' } };
    case 'webhook':
      return { id, type, webhook: { subscriptionId: '' } };
  }
}

export function newTrigger(type: WorkflowTriggerType): WorkflowTrigger {
  switch (type) {
    case 'contact_created':
      return { type, sources: ['bulk_import', 'manual'] };
    case 'consent_changed':
      return { type };
    case 'attribute_changed':
      return { type, key: '' };
    case 'manual':
      return { type };
    case 'schedule':
      return { type, cron: '0 9 * * 1', filter: {} };
  }
}

/** Steps that erase: creating a workflow holding one deserves a clear warning. */
export const ERASING_STEPS: WorkflowStepType[] = ['expunge', 'anonymise'];

export function runsTotal(counts: Partial<Record<WorkflowEnrollmentState, number>>): number {
  return Object.values(counts).reduce<number>((s, n) => s + (n ?? 0), 0);
}
