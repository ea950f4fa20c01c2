import type { AppContext } from '../context.ts';
import type { Db } from '../context.ts';
import { Problem } from '../http/problem.ts';
import { batchActor } from './inactive-job.ts';
import { startInactiveRun } from './inactive-runs.ts';
import { runLogRetention } from './log-retention.ts';
import { nextCronRun, retentionSettingsSchema } from './settings.ts';

/** Log retention runs daily at 02:00 UTC, a quiet hour, for every institution. */
export const LOG_RETENTION_CRON = '0 2 * * *';

/** Sets (or clears) when the worker next starts the inactive-contact batch, after a settings change. */
export async function scheduleInactiveBatch(db: Db, institutionId: string, schedule: string | null, now: Date): Promise<void> {
  const next = schedule ? nextCronRun(schedule, now) : null;
  if (!next) {
    await db.deleteFrom('retention_schedules').where('institution_id', '=', institutionId).where('kind', '=', 'inactive_batch').execute();
    return;
  }
  const at = next.toISOString();
  await db
    .insertInto('retention_schedules')
    .values({ institution_id: institutionId, kind: 'inactive_batch', next_run_at: at })
    .onConflict((oc) => oc.columns(['institution_id', 'kind']).doUpdateSet({ next_run_at: at }))
    .execute();
}

/**
 * Moves a due schedule to its next time with a conditional update on the time that was read:
 * of several workers (or a worker's loop and a drain) seeing it due, exactly one wins and runs it.
 */
async function claimDue(db: Db, institutionId: string, kind: 'inactive_batch' | 'log_retention', seen: string, next: string): Promise<boolean> {
  const r = await db
    .updateTable('retention_schedules')
    .set({ next_run_at: next })
    .where('institution_id', '=', institutionId)
    .where('kind', '=', kind)
    .where('next_run_at', '=', seen)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * The worker's retention tick: starts each institution's scheduled batch when its cron time has
 * come (in the institution's configured mode; a run refused because another holds the lock is
 * logged and tried at the next time), and runs the daily log retention. Returns the work done.
 */
export async function retentionTick(ctx: AppContext): Promise<number> {
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  let did = 0;
  const institutions = await ctx.db.selectFrom('institutions').select(['id', 'settings']).execute();
  const schedules = await ctx.db.selectFrom('retention_schedules').selectAll().execute();
  const nextLog = nextCronRun(LOG_RETENTION_CRON, now)!.toISOString();
  const due = new Map(schedules.map((s) => [`${s.institution_id}:${s.kind}`, new Date(s.next_run_at).toISOString()]));
  for (const inst of institutions) {
    const parsed = retentionSettingsSchema.safeParse((JSON.parse(inst.settings || '{}') as Record<string, unknown>).retention ?? {});
    const settings = parsed.success ? parsed.data : retentionSettingsSchema.parse({});
    const batchAt = due.get(`${inst.id}:inactive_batch`);
    if (settings.schedule && !batchAt) await scheduleInactiveBatch(ctx.db, inst.id, settings.schedule, now);
    if (settings.schedule && batchAt && batchAt <= nowIso) {
      const next = nextCronRun(settings.schedule, now);
      if (next && (await claimDue(ctx.db, inst.id, 'inactive_batch', batchAt, next.toISOString()))) {
        try {
          await startInactiveRun(ctx, inst.id, { actor: batchActor });
        } catch (error) {
          if (!(error instanceof Problem)) throw error;
          ctx.log.warn({ institutionId: inst.id, status: error.status }, 'scheduled inactive-contact batch not started');
        }
        did++;
      }
    }
    const logAt = due.get(`${inst.id}:log_retention`);
    if (!logAt) {
      await ctx.db
        .insertInto('retention_schedules')
        .values({ institution_id: inst.id, kind: 'log_retention', next_run_at: nextLog })
        .onConflict((oc) => oc.columns(['institution_id', 'kind']).doNothing())
        .execute();
    } else if (logAt <= nowIso && (await claimDue(ctx.db, inst.id, 'log_retention', logAt, nextLog))) {
      await runLogRetention(ctx, inst.id);
      did++;
    }
  }
  return did;
}
