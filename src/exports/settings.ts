import { z } from 'zod';
import type { Db } from '../context.ts';
import { readSetting, writeSetting } from '../access/institution-settings.ts';

/**
 * The institution's export settings (key "exports" of its settings document): the self-serve
 * limit (seed 003: 2,000 contacts), how long a one-time link lives, and the named person who must
 * hear about a scaled team's request (seed 003's "Amy").
 */
export const exportSettingsSchema = z.object({
  selfServeLimit: z.number().int().min(1).max(1_000_000).default(2000),
  linkTtlDays: z.number().int().min(1).max(90).default(7),
  scaledApproverEmail: z.email({ message: 'must be an email address like name@example.org' }).nullable().default(null),
  scaledApproverName: z.string().trim().min(1).max(200).nullable().default(null),
});
export type ExportSettings = z.infer<typeof exportSettingsSchema>;

export const exportSettingsPatch = z.strictObject({
  selfServeLimit: z.number().int().min(1).max(1_000_000).optional(),
  linkTtlDays: z.number().int().min(1).max(90).optional(),
  scaledApproverEmail: z.email({ message: 'must be an email address like name@example.org' }).nullable().optional(),
  scaledApproverName: z.string().trim().min(1).max(200).nullable().optional(),
});

export function readExportSettings(db: Db, institutionId: string): Promise<ExportSettings> {
  return readSetting(db, institutionId, 'exports', exportSettingsSchema);
}

export async function updateExportSettings(db: Db, institutionId: string, patch: z.infer<typeof exportSettingsPatch>): Promise<ExportSettings> {
  return db.transaction().execute(async (trx) => {
    const current = await readExportSettings(trx, institutionId);
    const next = Object.fromEntries(Object.entries({ ...current, ...patch }).filter(([, v]) => v !== undefined));
    return writeSetting(trx, institutionId, 'exports', exportSettingsSchema, next as z.input<typeof exportSettingsSchema>);
  });
}
