import { z } from 'zod';
import type { Db } from '../context.ts';
import { readSetting, writeSetting } from '../access/institution-settings.ts';

/**
 * The institution's lifecycle settings (key "lifecycle" of its settings document).
 * selfServiceDelete: what the contact's own "Delete Account" does (seed 000): 'soft' disables the
 * record, which staff can restore; 'expunge' erases it for good and emails a confirmation.
 * suppressionList: keep keyed hashes of expunged people's email and phone so that an import or
 * application bringing them back is flagged (off by default: it is itself data about them).
 */
export const lifecycleSettingsSchema = z.object({
  selfServiceDelete: z.enum(['soft', 'expunge']).default('soft'),
  suppressionList: z.boolean().default(false),
});
export type LifecycleSettings = z.infer<typeof lifecycleSettingsSchema>;

export const lifecycleSettingsBody = z.strictObject({
  selfServiceDelete: z.enum(['soft', 'expunge']).optional().describe("what the contact's own Delete Account does: soft (default) or expunge"),
  suppressionList: z.boolean().optional().describe('keep keyed hashes of expunged emails and phones so they are not re-imported silently'),
});

export function readLifecycleSettings(db: Db, institutionId: string): Promise<LifecycleSettings> {
  return readSetting(db, institutionId, 'lifecycle', lifecycleSettingsSchema);
}

export function writeLifecycleSettings(db: Db, institutionId: string, value: z.input<typeof lifecycleSettingsSchema>): Promise<LifecycleSettings> {
  return writeSetting(db, institutionId, 'lifecycle', lifecycleSettingsSchema, value);
}
