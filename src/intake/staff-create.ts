import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { createContactIn, updateContactIn, type Caller } from '../contacts/contacts.ts';
import type { ContactInput } from '../contacts/contact-fields.ts';
import { findVisibleContact, profileOf, type ContactProfile } from '../contacts/contact-profile.ts';
import { canSee } from '../contacts/visibility.ts';
import { candidateFromInput } from './rules/candidate.ts';
import { describeRule } from './rules/duplicate-rule.ts';
import { findDuplicates, lockDuplicateKeys, type DuplicateMatch } from './duplicates.ts';
import { fieldsToApply } from './fill-policy.ts';
import { ProblemWith } from './problems.ts';
import type { OnDuplicate } from './on-duplicate.ts';
import { readIntakeSettings } from './settings.ts';

/**
 * Creating a contact through the API (staff: source manual; API tokens: source api) checks the
 * institution's duplicate rule first. A match answers 409 with the candidates, unless the caller
 * chose what to do: create anyway, or merge the entered details into an existing contact.
 */

export const duplicateCandidateView = z.object({
  id: z.string(),
  /** false: the contact exists but your role may not see it; only its id and the reason are shown */
  visible: z.boolean(),
  reason: z.string(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  email: z.string().nullable().optional(),
  mobilePhone: z.string().nullable().optional(),
  organizationId: z.string().nullable().optional(),
  source: z.string().optional(),
  createdAt: z.string().optional(),
});

function candidateView(match: DuplicateMatch, caller: Caller) {
  if (!canSee(caller.viewer, { visibility: match.visibility, owner_user_id: match.ownerUserId })) {
    return { id: match.id, visible: false, reason: match.reason };
  }
  return {
    id: match.id,
    visible: true,
    reason: match.reason,
    firstName: match.firstName,
    lastName: match.lastName,
    email: match.email,
    mobilePhone: match.mobilePhone,
    organizationId: match.organizationId,
    source: match.source,
    createdAt: match.createdAt,
  };
}

export type CheckedCreate = { outcome: 'created'; profile: ContactProfile } | { outcome: 'merged'; profile: ContactProfile };

export async function createContactChecked(
  ctx: AppContext,
  institutionId: string,
  caller: Caller,
  input: ContactInput,
  onDuplicate?: OnDuplicate,
): Promise<CheckedCreate> {
  const settings = await readIntakeSettings(ctx.db, institutionId);
  const rule = settings.duplicateRule;
  const { candidate, errors } = candidateFromInput(
    { email: input.email, mobilePhone: input.mobilePhone, lastName: input.lastName, ssn: input.ssn },
    { defaultRegion: settings.defaultRegion, piiHashKey: ctx.secrets.piiHashKey },
  );

  return ctx.db.transaction().execute(async (trx): Promise<CheckedCreate> => {
    // Invalid values: the contact service answers 422 naming every field, before any matching.
    if (errors.length) return { outcome: 'created', profile: await createContactIn(ctx, trx, institutionId, caller, input, { defaultRegion: settings.defaultRegion }) };

    if (onDuplicate !== undefined && onDuplicate !== 'create_anyway') {
      const target = await findVisibleContact(trx, institutionId, caller.viewer, onDuplicate.mergeInto, ctx.store.kind === 'postgres');
      const changes = fieldsToApply(target, await profileOf(trx, institutionId, target), { ...input, organizationId: undefined, source: undefined }, onDuplicate.policy);
      const profile = await updateContactIn(ctx, trx, institutionId, caller, target.id, changes, {
        action: 'contact.merge_new',
        auditMeta: { policy: onDuplicate.policy },
      });
      return { outcome: 'merged', profile };
    }

    await lockDuplicateKeys(ctx, trx, institutionId, rule, candidate);
    const matches = await findDuplicates(trx, institutionId, rule, candidate);
    if (matches.length && onDuplicate === undefined) {
      throw new ProblemWith(
        409,
        `${matches.length === 1 ? 'A contact' : `${matches.length} contacts`} already match${matches.length === 1 ? 'es' : ''} these details ` +
          `(duplicate rule: ${describeRule(rule)}). Nothing was created. To go ahead, send the same request with ` +
          `"onDuplicate": "create_anyway", or with "onDuplicate": {"mergeInto": "<id>"} to add these details to an existing contact.`,
        { rule, ruleDescription: describeRule(rule), duplicates: matches.map((m) => candidateView(m, caller)) },
      );
    }
    const profile = await createContactIn(ctx, trx, institutionId, caller, input, { defaultRegion: settings.defaultRegion });
    if (matches.length) {
      await recordAudit(ctx, trx, {
        institutionId,
        actor: caller.actor,
        action: 'contact.create_despite_duplicates',
        target: { type: 'contact', id: profile.id },
        subjectId: profile.id,
        meta: { duplicateIds: matches.map((m) => m.id), rule: describeRule(rule) },
      });
    }
    return { outcome: 'created', profile };
  });
}
