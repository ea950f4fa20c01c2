import type { AppContext } from '../context.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { completeErasure } from '../lifecycle/storage.ts';
import { batchActor } from './inactive-job.ts';
import { readRetentionSettings } from './settings.ts';

export interface LogRetentionResult {
  keysDestroyed: number;
  entriesPurged: number;
}

const monthsBefore = (now: Date, months: number) => {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.toISOString();
};

/**
 * The end of the log-retention period (F8, seed 004): destroys the keys support held for
 * anonymised and deleted contacts whose period is over (their sealed audit entries become
 * unreadable everywhere, backups included, since no copy of the key is left), then purges the
 * institution's audit entries older than the period. Purging removes a prefix of the hash chain
 * and moves the chain's anchor to the last purged entry's hash, so `lethe audit verify` still
 * proves that nothing after it was edited or removed.
 */
export async function runLogRetention(ctx: AppContext, institutionId: string): Promise<LogRetentionResult> {
  const now = ctx.clock.now();
  const settings = await readRetentionSettings(ctx.db, institutionId);
  const cutoff = monthsBefore(now, settings.logRetentionMonths);
  const result = await ctx.db.transaction().execute(async (trx) => {
    const destroyed = await trx.deleteFrom('retention_support_keys').where('institution_id', '=', institutionId).where('expires_at', '<=', now.toISOString()).executeTakeFirst();
    const keysDestroyed = Number(destroyed.numDeletedRows);

    let head = trx.selectFrom('audit_chain_heads').selectAll().where('chain', '=', institutionId);
    if (ctx.store.kind === 'postgres') head = head.forUpdate();
    const locked = await head.executeTakeFirst();
    let entriesPurged = 0;
    if (locked) {
      const last = await trx
        .selectFrom('audit_log')
        .select(['seq', 'hash'])
        .where('chain', '=', institutionId)
        .where('occurred_at', '<', cutoff)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (last) {
        const purged = await trx.deleteFrom('audit_log').where('chain', '=', institutionId).where('seq', '<=', Number(last.seq)).executeTakeFirst();
        entriesPurged = Number(purged.numDeletedRows);
        await trx.updateTable('audit_chain_heads').set({ anchor_hash: last.hash }).where('chain', '=', institutionId).execute();
      }
    }
    if (keysDestroyed || entriesPurged) {
      await recordAudit(ctx, trx, { institutionId, actor: batchActor, action: 'audit.retention_purge', target: { type: 'institution', id: institutionId }, meta: { keysDestroyed, entriesPurged, before: cutoff } });
    }
    return { keysDestroyed, entriesPurged };
  });
  if (result.keysDestroyed || result.entriesPurged) await completeErasure(ctx, ['audit_log', 'retention_support_keys']);
  return result;
}
