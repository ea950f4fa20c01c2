import { Cron } from 'croner';
import type { AppContext } from '../context.ts';
import { systemViewer } from '../contacts/visibility.ts';
import { selectionQuery } from '../lifecycle/bulk/bulk-select.ts';
import type { Trigger } from './definition.ts';
import { insertEnrollments } from './triggers.ts';
import { loadVersion } from './versions.ts';

const cronOf = (expression: string) => new Cron(expression, { timezone: 'UTC', paused: true });

/** Why a cron expression cannot be used, or null. */
export function cronProblem(expression: string): string | null {
  try {
    return cronOf(expression).nextRun() ? null : 'never fires';
  } catch (error) {
    return `is not a cron expression croner accepts (${(error as Error).message})`;
  }
}

/** When a schedule trigger next fires after `after`, or null for other triggers. */
export function nextFireAt(trigger: Trigger, after: Date): string | null {
  if (trigger.type !== 'schedule') return null;
  return cronOf(trigger.cron).nextRun(after)?.toISOString() ?? null;
}

/**
 * A worker tick: each active schedule whose time has come enrolls its filter's contacts once. The
 * firing is claimed by moving next_fire_at forward with a conditional update in the enrolling
 * transaction, so two workers never fire the same one twice. A firing missed while everything
 * was stopped happens once, at the next tick.
 */
export async function fireDueSchedules(ctx: AppContext): Promise<number> {
  const now = ctx.clock.now();
  const due = await ctx.db
    .selectFrom('workflows')
    .select(['id', 'institution_id', 'current_version', 'next_fire_at'])
    .where('trigger_type', '=', 'schedule')
    .where('status', '=', 'active')
    .where('next_fire_at', '<=', now.toISOString())
    .execute();
  let fired = 0;
  for (const w of due) {
    const { trigger } = await loadVersion(ctx.db, w.id, w.current_version);
    if (trigger.type !== 'schedule') continue;
    // The selection is read before the transaction (it may count along indexes to plan).
    const ids = (await (await selectionQuery(ctx, w.institution_id, systemViewer, trigger.filter)).execute()).map((r) => r.id);
    const at = now.toISOString();
    const claimed = await ctx.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('workflows')
        .set({ next_fire_at: nextFireAt(trigger, now) })
        .where('id', '=', w.id)
        .where('next_fire_at', '=', w.next_fire_at)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await insertEnrollments(trx, ids.map((contactId) => ({ institutionId: w.institution_id, workflowId: w.id, version: w.current_version, contactId, trigger: 'schedule', at })));
      return true;
    });
    if (claimed) fired++;
  }
  return fired;
}
