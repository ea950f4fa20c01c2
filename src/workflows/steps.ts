import type { AppContext, Db } from '../context.ts';
import type { Contact } from '../db/schema.ts';
import type { Actor } from '../audit/audit-log.ts';
import { systemViewer } from '../contacts/visibility.ts';
import type { MailInput, QueuedMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';
import { applyAction, prepareAction, type Acting, type ActionInput, type Prepared } from '../lifecycle/actions.ts';
import type { ErasureResult } from '../lifecycle/erase.ts';
import { resolveTarget, waitMs, nextStepId, type Definition, type Step } from './definition.ts';
import { unsubscribeUrl, linkUrl } from './links.ts';
import { mergeFieldsIn } from './merge-fields.ts';
import { withUnsubscribeFooter } from './unsubscribe-footer.ts';
import { postWorkflowWebhook } from './webhook-step.ts';
import { anonymiseContacts } from '../retention/anonymise.ts';
import { readRetentionSettings } from '../retention/settings.ts';

/**
 * The contact columns a step reads (merge fields, conditions). Loaded for a whole batch of steps,
 * so not the whole row: a row's other columns would be read, parsed and then left as garbage.
 */
export const stepContactColumns = ['id', 'first_name', 'last_name', 'email', 'opt_in_status'] as const;
export type StepContact = Pick<Contact, (typeof stepContactColumns)[number]>;

/** A step that can never succeed as written (the contact's state refuses it): no retry. */
export class PermanentStepFailure extends Error {}

export interface StepRun {
  institutionId: string;
  workflowId: string;
  enrollmentId: string;
  definition: Definition;
  step: Step;
}

export interface StepOutcome {
  /** the step to run next, or null: the run is over */
  next: string | null;
  /** when the next step is due (default: now) */
  at?: string;
  /** what happened, for the step history: ids, counts, codes; never PII */
  detail: string;
  /** the contact is gone: the run ends, and the caller completes the erasure after commit */
  erasure?: ErasureResult;
  /** the email this step queued: its history line takes the message's id, so a run shows the delivery (sent, failed and why) */
  outboxId?: string;
}

/**
 * Where a step's emails go: straight into the outbox (a step run alone), or collected and written
 * with the rest of its batch in one multi-row insert (see bookkeeping.ts).
 */
export type QueueMail = (input: MailInput) => Promise<QueuedMail>;

export const workflowActor = (workflowId: string): Actor => ({ userId: null, label: `workflow:${workflowId}` });
// Lifecycle actions record how they were asked for; a workflow is automated bulk work.
const acting = (workflowId: string): Acting => ({ viewer: systemViewer, actor: workflowActor(workflowId), via: 'bulk' });

/** The lifecycle action a step stands for, if any. */
function lifecycleInput(step: Step): ActionInput | null {
  switch (step.type) {
    case 'expunge':
      return { action: 'expunge', reason: step.expunge.reason, notify: step.expunge.notify };
    case 'archive':
      return { action: 'archive', employer: step.archive.employer, doNotEmail: step.archive.doNotEmail, staffOnly: step.archive.staffOnly };
    case 'set_attribute':
      return { action: 'update', attributes: { [step.set_attribute.key]: step.set_attribute.value } };
    default:
      return null;
  }
}

/**
 * Work a step does before its transaction: resolving shared records (the "Inactive" employer),
 * and the webhook request, which must not hold a transaction (and on SQLite every writer) open
 * while a remote server answers. Throws to retry.
 */
export async function prepareStep(ctx: AppContext, run: StepRun, contactId: string): Promise<Prepared | null> {
  if (run.step.type === 'webhook') {
    await postWorkflowWebhook(ctx, run, contactId);
    return null;
  }
  const input = lifecycleInput(run.step);
  return input ? prepareAction(ctx, run.institutionId, workflowActor(run.workflowId), input) : null;
}

type EmailTemplate = { subject: string; text: string; html?: string };

/**
 * A step's email template as sent (marketing mail gains its unsubscribe footer) and the merge
 * fields it uses. Worked out once per step: definitions are cached and never change (versions.ts),
 * and a batch renders the same template for every contact.
 */
const templates = new WeakMap<Step, { template: EmailTemplate; used: string[] }>();

function templateOf(step: Extract<Step, { type: 'send_email' | 'notify_staff' }>): { template: EmailTemplate; used: string[] } {
  let known = templates.get(step);
  if (!known) {
    let template: EmailTemplate;
    if (step.type === 'notify_staff') template = { subject: step.notify_staff.subject, text: step.notify_staff.text };
    else {
      const o = step.send_email;
      template = o.category === 'marketing' ? withUnsubscribeFooter({ subject: o.subject, text: o.text, html: o.html }) : { subject: o.subject, text: o.text, html: o.html };
    }
    known = { template, used: mergeFieldsIn(template.subject, template.text, template.html) };
    templates.set(step, known);
  }
  return known;
}

async function mergeValues(ctx: AppContext, trx: Db, run: StepRun, contact: StepContact, used: readonly string[], links: Record<string, string>): Promise<Record<string, string>> {
  const values: Record<string, string> = {
    firstName: contact.first_name,
    lastName: contact.last_name,
    fullName: `${contact.first_name} ${contact.last_name}`.trim(),
    email: contact.email ?? '',
    contactId: contact.id,
  };
  if (used.includes('institution')) {
    values.institution = (await trx.selectFrom('institutions').select('name').where('id', '=', run.institutionId).executeTakeFirstOrThrow()).name;
  }
  const base = { institutionId: run.institutionId, contactId: contact.id, workflowId: run.workflowId };
  if (used.includes('optInUrl')) values.optInUrl = linkUrl(ctx, { ...base, kind: 'opt_in' });
  if (used.includes('consentRenewalUrl')) values.consentRenewalUrl = linkUrl(ctx, { ...base, kind: 'renew' });
  if (used.includes('unsubscribeUrl')) values.unsubscribeUrl = unsubscribeUrl(ctx, run.institutionId, contact.id, run.workflowId);
  for (const [name, url] of Object.entries(links)) values[`links.${name}`] = linkUrl(ctx, { ...base, kind: 'track', url });
  const keys = used.filter((f) => f.startsWith('attributes.')).map((f) => f.slice(11));
  if (keys.length) {
    const rows = await trx
      .selectFrom('contact_attribute_values as v')
      .innerJoin('attribute_definitions as d', 'd.id', 'v.attribute_id')
      .select(['d.key', 'v.value_text'])
      .where('v.contact_id', '=', contact.id)
      .where('d.key', 'in', keys)
      .execute();
    for (const k of keys) values[`attributes.${k}`] = rows.find((r) => r.key === k)?.value_text ?? '';
  }
  return values;
}

async function conditionHolds(trx: Db, contact: StepContact, test: Extract<Step, { type: 'condition' }>['condition']['if']): Promise<boolean> {
  if ('optedIn' in test) return (contact.opt_in_status === 'opted_in') === test.optedIn;
  if ('attribute' in test) {
    const row = await trx
      .selectFrom('contact_attribute_values as v')
      .innerJoin('attribute_definitions as d', 'd.id', 'v.attribute_id')
      .select('v.value_text')
      .where('v.contact_id', '=', contact.id)
      .where('d.key', '=', test.attribute.key)
      .executeTakeFirst();
    // Values are stored canonically as text (booleans "true"/"false", numbers in plain form).
    return row?.value_text === String(test.attribute.equals);
  }
  const row = await trx
    .selectFrom('contact_authorizations')
    .select('granted')
    .where('contact_id', '=', contact.id)
    .where('purpose', '=', test.authorization.purpose)
    .executeTakeFirst();
  return (row?.granted === 1) === test.authorization.granted;
}

/** Runs one step and its effects in the caller's transaction; its emails go to `queueMail`. */
export async function executeStep(ctx: AppContext, trx: Db, run: StepRun, contact: StepContact, prepared: Prepared | null, queueMail: QueueMail): Promise<StepOutcome> {
  const { step, definition } = run;
  const next = nextStepId(definition, step.id);
  const now = ctx.clock.now();
  switch (step.type) {
    case 'send_email': {
      const o = step.send_email;
      if (!contact.email) return { next, detail: 'skipped: the contact has no email address' };
      const { template, used } = templateOf(step);
      const values = await mergeValues(ctx, trx, run, contact, used, o.links ?? {});
      const message = renderTemplate(template, values);
      const queued = await queueMail({
        institutionId: run.institutionId,
        contactId: contact.id,
        category: o.category,
        template: `workflow:${run.workflowId}:${step.id}`,
        to: contact.email,
        message,
      });
      return { next, outboxId: queued.id, detail: queued.status === 'refused' ? `not sent: ${queued.refusal}` : `email queued (${o.category})` };
    }
    case 'wait': {
      const until = 'until' in step.wait ? new Date(Math.max(Date.parse(step.wait.until), now.getTime())) : new Date(now.getTime() + waitMs(step.wait));
      return { next, at: until.toISOString(), detail: `waiting until ${until.toISOString()}` };
    }
    case 'condition': {
      const holds = await conditionHolds(trx, contact, step.condition.if);
      const target = resolveTarget(definition, step.id, holds ? step.condition.then : step.condition.else);
      return { next: target, detail: `${holds ? 'true' : 'false'} → ${target ?? 'end'}` };
    }
    case 'notify_staff': {
      const o = step.notify_staff;
      const { template, used } = templateOf(step);
      const values = await mergeValues(ctx, trx, run, contact, used, {});
      const message = renderTemplate(template, values);
      // Linked to the contact, so erasing the contact removes a notice not yet sent.
      for (const to of o.to) await queueMail({ institutionId: run.institutionId, contactId: contact.id, category: 'transactional', template: `workflow:${run.workflowId}:${step.id}`, to, message });
      return { next, detail: `${o.to.length} staff notification(s) queued` };
    }
    case 'webhook':
      return { next, detail: 'webhook delivered' };
    case 'anonymise': {
      const already = await trx.selectFrom('anonymised_contacts').select('stub_id').where('stub_id', '=', contact.id).executeTakeFirst();
      if (already) return { next: null, detail: 'anonymise: already anonymised' };
      // Support may recover the contact from the sealed audit entry for the log-retention period (seed 004).
      const { logRetentionMonths } = await readRetentionSettings(trx, run.institutionId);
      const supportUntil = new Date(now);
      supportUntil.setUTCMonth(supportUntil.getUTCMonth() + logRetentionMonths);
      // Anonymisation reads the whole row (it seals what it removes); only this step needs it.
      const row = await trx.selectFrom('contacts').selectAll().where('id', '=', contact.id).executeTakeFirstOrThrow();
      const tables = await anonymiseContacts(ctx, trx, run.institutionId, [row], { actor: workflowActor(run.workflowId), runId: null, supportUntil: supportUntil.toISOString() });
      return { next: null, detail: 'contact anonymised', erasure: { tables, confirmations: 0 } };
    }
    case 'expunge':
    case 'archive':
    case 'set_attribute': {
      const input = lifecycleInput(step)!;
      const { outcomes, erasure } = await applyAction(ctx, trx, run.institutionId, acting(run.workflowId), [contact.id], input, prepared!);
      const [outcome] = outcomes;
      if (outcome.outcome === 'refused') throw new PermanentStepFailure(`${step.type} refused: ${outcome.why ?? 'not allowed in the contact’s state'}`);
      if (step.type === 'expunge') return { next: null, detail: 'contact expunged', erasure: erasure ?? { tables: [], confirmations: 0 } };
      return { next, detail: outcome.outcome === 'changed' ? `${step.type} applied` : `${step.type}: already so` };
    }
  }
}
