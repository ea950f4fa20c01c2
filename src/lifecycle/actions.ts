import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { visibilities, type DisabledVia } from '../db/schema.ts';
import type { Actor } from '../audit/audit-log.ts';
import { checkContactAttributes, definitionsByKey, type AttributeDefinition, type CheckedAttributeValue } from '../contacts/attributes.ts';
import { foldName } from '../contacts/normalize.ts';
import type { Viewer } from '../contacts/visibility.ts';
import { invalidFields, type FieldError } from '../http/problem.ts';
import { emitContactEvents } from '../webhooks/events.ts';
import { DO_NOT_EMAIL_KEY, ensureDoNotEmailAttribute, ensureInactiveEmployer, INACTIVE_EMPLOYER_NAME } from './archive.ts';
import { applyContactChanges, type ChangeItem, type ContactChange } from './contact-changes.ts';
import { eraseContacts, erasureReasons, type ErasureResult, type ErasureVia } from './erase.ts';
import { decide, editRefusal, type Decision, type LifecycleAction } from './rules.ts';
import { loadContacts, type LoadedContact } from './state.ts';

const reason = z.string().trim().min(1, 'must not be empty').max(500).optional().describe('why; kept in the audit log, sealed with the contact’s key');
const erasureReason = z.enum(erasureReasons).default('staff_decision').describe('a reason code (the audit entry outlives the contact, so no free text)');
const ref = z.string().min(1).max(100);

const updateShape = z.strictObject({
  reason,
  employerId: ref.nullable().optional(),
  visibility: z.enum(visibilities).optional(),
  attributes: z.record(z.string(), z.union([z.string().max(2000), z.number(), z.boolean()]).nullable()).optional().describe('key → value; null removes the value'),
});
const setsSomething = (u: z.output<typeof updateShape>) => u.employerId !== undefined || u.visibility !== undefined || Object.keys(u.attributes ?? {}).length > 0;

/** The options of each action, as the single-contact routes and bulk jobs take them. */
export const actionOptions = {
  disable: z.strictObject({ reason }),
  restore: z.strictObject({ reason }),
  reject: z.strictObject({ reason }),
  approve: z.strictObject({ reason }),
  archive: z.strictObject({
    reason,
    employer: z.boolean().default(true).describe('move to the "Inactive" employer (created if missing); the old employer keeps the contact as a former contact'),
    doNotEmail: z.boolean().default(true).describe('set the "Inactive / Do not email" attribute, honoured by every marketing send'),
    staffOnly: z.boolean().default(true).describe('restrict visibility to staff'),
  }),
  unarchive: z.strictObject({
    reason,
    employerId: ref.nullable().optional().describe('the employer to move to; default: the one the contact had before archiving'),
  }),
  delete: z.strictObject({ reason: erasureReason }),
  expunge: z.strictObject({
    reason: erasureReason,
    notify: z.boolean().default(true).describe('email the contact a confirmation before the address is destroyed'),
  }),
  update: updateShape.refine(setsSomething, { message: 'set at least one of employerId, visibility, attributes' }),
} as const;

export type ActionName = keyof typeof actionOptions;
export type ActionInput = { [A in ActionName]: { action: A } & z.output<(typeof actionOptions)[A]> }[ActionName];

/** Any action with its options, discriminated by `action` (bulk requests). */
export const actionInputSchema = z.discriminatedUnion('action', [
  actionOptions.disable.extend({ action: z.literal('disable') }),
  actionOptions.restore.extend({ action: z.literal('restore') }),
  actionOptions.reject.extend({ action: z.literal('reject') }),
  actionOptions.approve.extend({ action: z.literal('approve') }),
  actionOptions.archive.extend({ action: z.literal('archive') }),
  actionOptions.unarchive.extend({ action: z.literal('unarchive') }),
  actionOptions.delete.extend({ action: z.literal('delete') }),
  actionOptions.expunge.extend({ action: z.literal('expunge') }),
  updateShape.extend({ action: z.literal('update') }).refine(setsSomething, { message: 'set at least one of employerId, visibility, attributes' }),
]);

/** What an action needs resolved once, before any contact is touched (and checked: 422 names the field). */
export interface Prepared {
  inactiveEmployerId: string | null;
  doNotEmail: AttributeDefinition | null;
  attributes: CheckedAttributeValue[];
}

export interface Acting {
  viewer: Viewer;
  actor: Actor;
  via: ErasureVia;
}

async function employerExists(db: Db, institutionId: string, id: string): Promise<boolean> {
  return Boolean(await db.selectFrom('employers').select('id').where('institution_id', '=', institutionId).where('id', '=', id).executeTakeFirst());
}

/** Checks an action's options against the institution (422 naming each bad field), writing nothing. */
export async function validateAction(ctx: AppContext, institutionId: string, input: ActionInput): Promise<CheckedAttributeValue[]> {
  const errors: FieldError[] = [];
  let attributes: CheckedAttributeValue[] = [];
  if ((input.action === 'unarchive' || input.action === 'update') && input.employerId && !(await employerExists(ctx.db, institutionId, input.employerId))) {
    errors.push({ field: 'employerId', message: 'is not an employer of this institution' });
  }
  if (input.action === 'update') {
    const raw = input.attributes ?? {};
    const checked = checkContactAttributes(raw, await definitionsByKey(ctx.db, institutionId, Object.keys(raw)));
    errors.push(...checked.errors);
    attributes = [...checked.values.values()];
  }
  if (errors.length) throw invalidFields(errors, `Nothing was changed: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`);
  return attributes;
}

/**
 * Validates the options, then finds (archive: creates on first use) the shared records the
 * action needs: the "Inactive" employer and the do-not-email attribute.
 */
export async function prepareAction(ctx: AppContext, institutionId: string, actor: Actor, input: ActionInput): Promise<Prepared> {
  const prepared: Prepared = { inactiveEmployerId: null, doNotEmail: null, attributes: await validateAction(ctx, institutionId, input) };
  if (input.action === 'archive') {
    if (input.employer) prepared.inactiveEmployerId = await ensureInactiveEmployer(ctx, institutionId, actor);
    if (input.doNotEmail) prepared.doNotEmail = await ensureDoNotEmailAttribute(ctx, institutionId, actor);
  }
  if (input.action === 'unarchive') {
    const inactive = await ctx.db
      .selectFrom('employers')
      .select('id')
      .where('institution_id', '=', institutionId)
      .where('name_folded', '=', foldName(INACTIVE_EMPLOYER_NAME))
      .executeTakeFirst();
    prepared.inactiveEmployerId = inactive?.id ?? null;
    prepared.doNotEmail = (await definitionsByKey(ctx.db, institutionId, [DO_NOT_EMAIL_KEY])).get(DO_NOT_EMAIL_KEY) ?? null;
  }
  return prepared;
}

/** The decision for one loaded contact (an update is an edit: see decideUpdate). */
export function decisionFor(input: ActionInput, loaded: LoadedContact): Decision {
  return input.action === 'update' ? decideUpdate(loaded) : decide(input.action as LifecycleAction, loaded.state);
}

export interface ContactOutcome {
  id: string;
  outcome: 'changed' | 'unchanged' | 'refused';
  status?: number;
  why?: string;
}

export interface ChunkOutcome {
  outcomes: ContactOutcome[];
  erasure: ErasureResult | null;
}

/** A bulk update is an edit: refused where an edit would be (disabled, or rejected and frozen). */
function decideUpdate(loaded: LoadedContact): Decision {
  if (!loaded.state.exists) return decide('restore', loaded.state); // the same "gone" answers
  const why = editRefusal(loaded.state, ['update']);
  return why ? { kind: 'refuse', status: 409, why } : { kind: 'apply' };
}

const auditAction: Record<Exclude<ActionName, 'delete' | 'expunge'>, string> = {
  disable: 'contact.disable',
  restore: 'contact.restore',
  reject: 'contact.reject',
  approve: 'contact.approve',
  archive: 'contact.archive',
  unarchive: 'contact.unarchive',
  update: 'contact.bulk_update',
};

const disabledVia: Record<ErasureVia, DisabledVia> = { staff: 'staff', cli: 'staff', bulk: 'bulk', self_service: 'self_service' };

/**
 * Runs one action on a set of contacts in the caller's transaction: each contact's state decides
 * whether it changes, is already as asked (unchanged, idempotent) or is refused with the reason;
 * the ones that change are written set-based. Contacts the viewer may not see count as not found.
 */
export async function applyAction(
  ctx: AppContext,
  trx: Db,
  institutionId: string,
  acting: Acting,
  ids: string[],
  input: ActionInput,
  prepared: Prepared,
): Promise<ChunkOutcome> {
  const loaded = await loadContacts(trx, institutionId, acting.viewer, ids, { lock: ctx.store.kind === 'postgres', attributeIds: attributesChangedBy(input, prepared) });
  const outcomes: ContactOutcome[] = [];
  const apply: LoadedContact[] = [];
  for (const l of loaded) {
    const decision = decisionFor(input, l);
    if (decision.kind === 'apply') apply.push(l);
    else if (decision.kind === 'noop') outcomes.push({ id: l.id, outcome: 'unchanged', why: decision.why });
    else outcomes.push({ id: l.id, outcome: 'refused', status: decision.status, why: decision.why });
  }
  if (apply.length === 0) return { outcomes, erasure: null };
  const now = ctx.clock.now().toISOString();
  let erasure: ErasureResult | null = null;
  const unchanged = new Set<string>();

  if (input.action === 'delete' || input.action === 'expunge') {
    erasure = await eraseContacts(
      ctx,
      trx,
      institutionId,
      apply.map((l) => ({ id: l.id, row: l.row })),
      { mode: input.action, actor: acting.actor, reason: input.reason, via: acting.via, notify: input.action === 'expunge' ? input.notify : false },
    );
  } else {
    const items: ChangeItem[] = apply.map((l) => ({ row: l.row!, stored: l.attributes, ...changeFor(input, l, prepared) }));
    const changes = await applyContactChanges(ctx, trx, institutionId, items, { action: auditAction[input.action], actor: acting.actor, reason: input.reason });
    const applied = apply.map((l) => l.id);
    // An update that finds the values already there writes nothing (no audit entry either).
    if (input.action === 'update') for (const id of applied) if ((changes.get(id) ?? []).length === 0) unchanged.add(id);
    if (input.action === 'disable') {
      for (let i = 0; i < applied.length; i += 500) {
        const part = applied.slice(i, i + 500);
        await trx
          .insertInto('disabled_contacts')
          .values(part.map((id) => ({ contact_id: id, institution_id: institutionId, disabled_at: now, disabled_by: acting.actor.userId, via: disabledVia[acting.via] })))
          .execute();
        // A disabled contact can no longer use the self-service profile.
        await trx.deleteFrom('contact_sessions').where('contact_id', 'in', part).execute();
        await trx.deleteFrom('contact_access_codes').where('contact_id', 'in', part).execute();
      }
      await emitContactEvents(trx, institutionId, now, applied.map((id) => ({ type: 'contact.deleted' as const, contactId: id, data: { mode: 'soft' } })));
    }
    if (input.action === 'restore') {
      for (let i = 0; i < applied.length; i += 500) await trx.deleteFrom('disabled_contacts').where('contact_id', 'in', applied.slice(i, i + 500)).execute();
      await emitContactEvents(trx, institutionId, now, applied.map((id) => ({ type: 'contact.restored' as const, contactId: id })));
    }
    if (input.action === 'archive') {
      const rows = apply.map((l) => {
        const c = changes.get(l.id) ?? [];
        const has = (f: string) => (c.some((x) => x.field === f) ? 1 : 0);
        return {
          contact_id: l.id,
          institution_id: institutionId,
          previous_employer_id: l.row!.employer_id,
          previous_visibility: l.row!.visibility,
          set_employer: has('employerId') as 0 | 1,
          set_do_not_email: has(`attributes.${DO_NOT_EMAIL_KEY}`) as 0 | 1,
          set_visibility: has('visibility') as 0 | 1,
          archived_at: now,
          archived_by: acting.actor.userId,
        };
      });
      for (let i = 0; i < rows.length; i += 500) await trx.insertInto('contact_archives').values(rows.slice(i, i + 500)).execute();
    }
    if (input.action === 'unarchive') {
      for (let i = 0; i < applied.length; i += 500) await trx.deleteFrom('contact_archives').where('contact_id', 'in', applied.slice(i, i + 500)).execute();
    }
  }
  for (const l of apply) outcomes.push(unchanged.has(l.id) ? { id: l.id, outcome: 'unchanged', why: 'The contact already has these values.' } : { id: l.id, outcome: 'changed' });
  return { outcomes, erasure };
}

/** The attributes an action may change: their stored values are read with the contacts. */
function attributesChangedBy(input: ActionInput, prepared: Prepared): string[] {
  if (input.action === 'update') return prepared.attributes.map((a) => a.definition.id);
  if ((input.action === 'archive' && input.doNotEmail) || input.action === 'unarchive') return prepared.doNotEmail ? [prepared.doNotEmail.id] : [];
  return [];
}

/** The field changes, audited transition and lifecycle event of one contact for one action. */
function changeFor(input: ActionInput, l: LoadedContact, prepared: Prepared): Omit<ChangeItem, 'row' | 'stored'> {
  const row = l.row!;
  switch (input.action) {
    case 'disable':
      return { change: {}, transition: { before: { disabled: false }, after: { disabled: true } }, events: [{ type: 'contact.disabled', data: {} }] };
    case 'restore':
      return { change: {}, transition: { before: { disabled: true }, after: { disabled: false } }, events: [{ type: 'contact.restored', data: {} }] };
    case 'reject':
      return { change: { approvalStatus: 'rejected' } };
    case 'approve':
      return { change: { approvalStatus: 'approved' } };
    case 'update':
      return {
        change: {
          ...(input.employerId !== undefined ? { employerId: input.employerId } : {}),
          ...(input.visibility !== undefined ? { visibility: input.visibility } : {}),
          attributes: prepared.attributes,
        },
      };
    case 'archive': {
      const change: ContactChange = {};
      if (input.employer) change.employerId = prepared.inactiveEmployerId;
      if (input.staffOnly) change.visibility = 'staff_only';
      if (input.doNotEmail) change.attributes = [{ definition: prepared.doNotEmail!, stored: { valueText: 'true', valueNumber: null } }];
      return { change, transition: { before: { archived: false }, after: { archived: true } }, events: [{ type: 'contact.archived', data: {} }] };
    }
    case 'unarchive': {
      const a = l.archive!;
      const change: ContactChange = {};
      // Only what archiving set, and only where nobody has changed it since.
      if (input.employerId !== undefined) change.employerId = input.employerId;
      else if (a.setEmployer && row.employer_id !== null && row.employer_id === prepared.inactiveEmployerId) change.employerId = a.previousEmployerId;
      if (a.setVisibility && row.visibility === 'staff_only' && a.previousVisibility) change.visibility = a.previousVisibility as ContactChange['visibility'];
      if (a.setDoNotEmail && prepared.doNotEmail) change.attributes = [{ definition: prepared.doNotEmail, stored: null }];
      return { change, transition: { before: { archived: true }, after: { archived: false } }, events: [{ type: 'contact.unarchived', data: {} }] };
    }
    case 'delete':
    case 'expunge':
      throw new Error('erasure is not a field change');
  }
}
