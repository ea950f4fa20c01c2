import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { approvalStatuses, visibilities } from '../db/schema.ts';
import type { Viewer } from '../contacts/visibility.ts';
import { notFound, Problem } from '../http/problem.ts';
import { applyAction, decisionFor, prepareAction, validateAction, type Acting, type ActionInput } from './actions.ts';
import type { Decision } from './rules.ts';
import { DO_NOT_EMAIL_KEY } from './archive.ts';
import { completeErasure } from './storage.ts';
import { loadContacts } from './state.ts';

export const lifecycleView = z.object({
  contactId: z.string(),
  status: z.enum(['active', 'disabled']).describe('disabled: the account was deleted (soft); staff can restore it'),
  disabledAt: z.string().nullable(),
  approvalStatus: z.enum(approvalStatuses),
  archived: z.boolean(),
  doNotEmail: z.boolean(),
  visibility: z.enum(visibilities),
  employerId: z.string().nullable(),
});
export type LifecycleView = z.infer<typeof lifecycleView>;

export const actionResultView = z.object({
  contactId: z.string(),
  action: z.string(),
  outcome: z.enum(['changed', 'unchanged']).describe('unchanged: the contact already was as asked (the action is idempotent)'),
  detail: z.string().nullable(),
  lifecycle: lifecycleView.nullable().describe('null once the contact is deleted or expunged'),
});
export type ActionResult = z.infer<typeof actionResultView>;

/** The lifecycle side of a contact the viewer may see (404 otherwise, or 410 once erased). */
export async function getLifecycle(db: Db, institutionId: string, viewer: Viewer, contactId: string): Promise<LifecycleView> {
  const [loaded] = await loadContacts(db, institutionId, viewer, [contactId]);
  if (!loaded.row || !loaded.state.exists) {
    if (!loaded.state.exists && loaded.state.erased) throw new Problem(410, `The contact was ${loaded.state.erased}.`);
    throw notFound('Contact');
  }
  const flag = await db
    .selectFrom('contact_attribute_values as v')
    .innerJoin('attribute_definitions as d', 'd.id', 'v.attribute_id')
    .select('v.value_text')
    .where('v.contact_id', '=', contactId)
    .where('d.key', '=', DO_NOT_EMAIL_KEY)
    .executeTakeFirst();
  return {
    contactId,
    status: loaded.state.disabled ? 'disabled' : 'active',
    disabledAt: loaded.disabledAt,
    approvalStatus: loaded.row.approval_status,
    archived: loaded.state.archived,
    doNotEmail: flag?.value_text === 'true',
    visibility: loaded.row.visibility,
    employerId: loaded.row.employer_id,
  };
}

/**
 * One lifecycle action on one contact, audited, in one transaction; erasures then complete at the
 * storage level before this returns. Refusals say why (409 state, 410 erased, 404 unknown or
 * another institution's); repeating a done action answers "unchanged".
 */
export async function runContactAction(ctx: AppContext, institutionId: string, acting: Acting, contactId: string, input: ActionInput): Promise<ActionResult> {
  // Order of answers: unknown or erased (404/410), bad options (422), then the contact's state
  // (409 or "unchanged"); only then is anything written, so a refused request changes nothing.
  const refuse = (d: Decision) => {
    if (d.kind === 'refuse') throw new Problem(d.status, d.why);
  };
  const [before] = await loadContacts(ctx.db, institutionId, acting.viewer, [contactId]);
  if (!before.state.exists) refuse(decisionFor(input, before));
  await validateAction(ctx, institutionId, input);
  const decision = decisionFor(input, before);
  refuse(decision);
  const erased = input.action === 'delete' || input.action === 'expunge';
  const view = async () => (erased ? null : await getLifecycle(ctx.db, institutionId, acting.viewer, contactId).catch(() => null));
  if (decision.kind === 'noop') return { contactId, action: input.action, outcome: 'unchanged', detail: decision.why, lifecycle: await view() };

  const prepared = await prepareAction(ctx, institutionId, acting.actor, input);
  const { outcomes, erasure } = await ctx.db.transaction().execute((trx) => applyAction(ctx, trx, institutionId, acting, [contactId], input, prepared));
  const [outcome] = outcomes;
  // The state may have moved between the look and the write; the decision inside the transaction wins.
  if (outcome.outcome === 'refused') throw new Problem(outcome.status ?? 409, outcome.why ?? 'This action is not allowed in the contact’s state.');
  if (erasure) await completeErasure(ctx, erasure.tables);
  // A caller who may not see disabled contacts loses sight of the one they just disabled (null).
  return { contactId, action: input.action, outcome: outcome.outcome, detail: outcome.why ?? null, lifecycle: await view() };
}
