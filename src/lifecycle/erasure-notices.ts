import type { AppContext } from '../context.ts';
import { appendAuditBatch } from './audit-batch.ts';
import { systemActor } from '../audit/audit-log.ts';
import { completeErasure } from './storage.ts';

/**
 * Worker tick, after the mail dispatcher: an expunge confirmation is the last copy of an erased
 * address. Once it has been sent (the dispatcher scrubs it) or can never be (failed for good, or
 * held because no SMTP server is configured), its outbox row goes and the storage is compacted,
 * so the address is found nowhere. A message still being retried keeps its address until then.
 */
export async function settleErasureNotices(ctx: AppContext): Promise<number> {
  const done = await ctx.db
    .selectFrom('erasure_notices as n')
    .leftJoin('outbox_messages as o', 'o.id', 'n.outbox_id')
    .select(['n.outbox_id', 'n.institution_id', 'o.status', 'o.message_id'])
    .where((eb) => eb.or([eb('o.id', 'is', null), eb('o.status', 'in', ['sent', 'failed', 'held', 'refused'])]))
    .limit(500)
    .execute();
  if (done.length === 0) return 0;
  await ctx.db.transaction().execute(async (trx) => {
    const ids = done.map((d) => d.outbox_id);
    await trx.deleteFrom('outbox_messages').where('id', 'in', ids).execute();
    await trx.deleteFrom('erasure_notices').where('outbox_id', 'in', ids).execute();
    const byInstitution = new Map<string, typeof done>();
    for (const d of done) byInstitution.set(d.institution_id, [...(byInstitution.get(d.institution_id) ?? []), d]);
    for (const [institutionId, list] of byInstitution) {
      await appendAuditBatch(
        ctx,
        trx,
        institutionId,
        list.map((d) => ({
          actor: systemActor,
          action: 'mail.expunge_confirmation',
          target: { type: 'outbox_message', id: d.outbox_id },
          meta: { outcome: d.status === 'sent' ? 'sent' : d.status === 'held' ? 'not_sent_no_smtp' : 'not_sent', messageId: d.message_id },
        })),
      );
    }
  });
  await completeErasure(ctx, ['outbox_messages', 'erasure_notices']);
  return done.length;
}
