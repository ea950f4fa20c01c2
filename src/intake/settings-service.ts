import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { describeRule, duplicateRuleSchema } from './rules/duplicate-rule.ts';
import { validateFormVerification } from './rules/verification.ts';
import { formFieldsOf, lockInstitution } from './forms.ts';
import { ProblemWith } from './problems.ts';
import { readIntakeSettings, regionSchema, writeIntakeSettings, type IntakeSettings } from './settings.ts';

export const intakeSettingsBody = z.strictObject({
  duplicateRule: duplicateRuleSchema.describe('the duplicate-check rule (seed 002) for manual creation, imports and every form without its own'),
  defaultRegion: regionSchema.describe('ISO country code national phone numbers are read in, e.g. US, GB, FR'),
});

export const intakeSettingsView = z.object({
  duplicateRule: duplicateRuleSchema,
  duplicateRuleDescription: z.string(),
  defaultRegion: z.string(),
});

export function viewOfSettings(settings: IntakeSettings) {
  return { ...settings, duplicateRuleDescription: describeRule(settings.duplicateRule) };
}

/**
 * Replaces the institution's intake settings. A rule change that would leave a form with
 * verification on and a compared field optional (a form without its own rule follows this one)
 * is refused, naming the forms: seed 002 says verification could then be bypassed.
 */
export async function updateIntakeSettings(ctx: AppContext, institutionId: string, actor: Actor, input: z.output<typeof intakeSettingsBody>) {
  return ctx.db.transaction().execute(async (trx) => {
    await lockInstitution(ctx, trx, institutionId);
    const before = await readIntakeSettings(trx, institutionId);
    const followers = await trx
      .selectFrom('application_forms')
      .select(['id', 'name', 'fields'])
      .where('institution_id', '=', institutionId)
      .where('duplicate_rule', 'is', null)
      .where('verification_enabled', '=', 1)
      .execute();
    const blocked = followers
      .map((form) => ({
        form,
        refusal: validateFormVerification({
          verificationEnabled: true,
          rule: input.duplicateRule,
          requiredFields: formFieldsOf(form).filter((f) => f.required).map((f) => f.field),
        }),
      }))
      .filter((b) => b.refusal !== null);
    if (blocked.length) {
      throw new ProblemWith(
        409,
        `The rule "${describeRule(input.duplicateRule)}" compares fields that ${blocked.length === 1 ? 'a form' : `${blocked.length} forms`} with application verification ` +
          'leave optional, so applicants could bypass verification there. Make those fields required on the forms (or turn verification off, or give the forms their own rule) first.',
        { forms: blocked.map((b) => ({ id: b.form.id, name: b.form.name, fieldsToRequire: b.refusal!.fields })) },
        [{ field: 'duplicateRule', message: 'would let applicants bypass verification on the forms listed' }],
      );
    }
    const after = await writeIntakeSettings(trx, institutionId, input, false);
    await recordAudit(ctx, trx, { institutionId, actor, action: 'intake.settings', target: { type: 'institution', id: institutionId }, before, after });
    return viewOfSettings(after);
  });
}
