import { Cron } from 'croner';
import { z } from 'zod';
import type { Db } from '../context.ts';
import { readSetting, writeSetting } from '../access/institution-settings.ts';

/** A five- or six-field cron expression croner accepts (evaluated in UTC). */
const cronExpression = z.string().trim().min(1).max(100).refine(
  (v) => {
    try {
      new Cron(v, { paused: true, timezone: 'UTC' }).stop();
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a cron expression (e.g. "0 3 1 * *": 03:00 UTC on the 1st of each month)' },
);

/**
 * The institution's retention settings (key "retention" of its settings document): seed 004's
 * defaults are 36 months of inactivity and simulation mode; nothing runs on a schedule until one is set.
 */
export const retentionSettingsSchema = z.object({
  inactivityMonths: z.number().int().min(1).max(1200).default(36),
  simulation: z.boolean().default(true),
  schedule: z.string().nullable().default(null),
  logRetentionMonths: z.number().int().min(1).max(120).default(12),
});
export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;

export const retentionSettingsBody = z.strictObject({
  inactivityMonths: z.number().int().min(1, 'must be at least 1 month').max(1200).optional().describe('contacts whose recency is older than this are deleted or anonymised'),
  simulation: z.boolean().optional().describe('true (default): scheduled runs only report what they would do'),
  schedule: cronExpression.nullable().optional().describe('cron expression (UTC) for the worker to run the batch; null: not scheduled'),
  logRetentionMonths: z.number().int().min(1, 'must be at least 1 month').max(120).optional().describe('how long support may recover an anonymised contact from the audit log; then its key and old entries are destroyed'),
});

export function readRetentionSettings(db: Db, institutionId: string): Promise<RetentionSettings> {
  return readSetting(db, institutionId, 'retention', retentionSettingsSchema);
}

export function writeRetentionSettings(db: Db, institutionId: string, value: z.input<typeof retentionSettingsSchema>): Promise<RetentionSettings> {
  return writeSetting(db, institutionId, 'retention', retentionSettingsSchema, value);
}

/** The next time a cron expression fires after `after` (UTC), or null when it never will. */
export function nextCronRun(expression: string, after: Date): Date | null {
  const cron = new Cron(expression, { paused: true, timezone: 'UTC' });
  try {
    return cron.nextRun(after);
  } finally {
    cron.stop();
  }
}
