import { z } from 'zod';
import { getCountries, type CountryCode } from 'libphonenumber-js/max';
import type { Db } from '../context.ts';
import { readSetting, writeSetting } from '../access/institution-settings.ts';
import { duplicateRuleSchema, type DuplicateRule } from './rules/duplicate-rule.ts';

/**
 * The institution's intake settings (key "intake" of its settings document): the duplicate-check
 * rule every application form, manual creation and import uses unless a form overrides it, and
 * the region national phone numbers are read in.
 */

const countries = new Set<string>(getCountries());

export const regionSchema = z
  .string()
  .transform((v) => v.trim().toUpperCase())
  .refine((v) => countries.has(v), { message: 'must be a two-letter ISO country code with a phone numbering plan, such as US, GB or FR' })
  .transform((v) => v as CountryCode);

export const DEFAULT_DUPLICATE_RULE: DuplicateRule = { identifier: 'email', lastName: false, ssn: 'none' };

export const intakeSettingsSchema = z.object({
  duplicateRule: duplicateRuleSchema.default(DEFAULT_DUPLICATE_RULE),
  defaultRegion: regionSchema.default('US'),
});

export type IntakeSettings = z.infer<typeof intakeSettingsSchema>;

export async function readIntakeSettings(db: Db, institutionId: string): Promise<IntakeSettings> {
  return readSetting(db, institutionId, 'intake', intakeSettingsSchema);
}

export async function writeIntakeSettings(db: Db, institutionId: string, value: z.input<typeof intakeSettingsSchema>, lock = true): Promise<IntakeSettings> {
  return writeSetting(db, institutionId, 'intake', intakeSettingsSchema, value, lock);
}
