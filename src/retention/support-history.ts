import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { notFound, Problem } from '../http/problem.ts';
import { open } from '../security/aead.ts';

export const supportEntryView = z.object({
  seq: z.number(),
  occurredAt: z.string(),
  action: z.string(),
  actorLabel: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  meta: z.record(z.string(), z.unknown()).nullable(),
});

/**
 * Platform support's recovery of an anonymised (or batch-deleted) contact from the audit log,
 * possible only while the log-retention period keeps the contact's key. Every read is itself audited.
 */
export async function readSupportHistory(ctx: AppContext, institutionId: string, contactId: string, actor: Actor): Promise<z.infer<typeof supportEntryView>[]> {
  const held = await ctx.db.selectFrom('retention_support_keys').select('wrapped_key').where('institution_id', '=', institutionId).where('subject_id', '=', contactId).executeTakeFirst();
  if (!held) {
    const entries = await ctx.db.selectFrom('audit_log').select('seq').where('chain', '=', institutionId).where('target_id', '=', contactId).limit(1).execute();
    if (entries.length === 0) throw notFound('Contact history');
    throw new Problem(410, "This contact's history is no longer recoverable: its log-retention period is over, or it was never anonymised by the retention batch.");
  }
  const key = open(ctx.secrets.masterKey, held.wrapped_key, contactId);
  const rows = await ctx.db.selectFrom('audit_log').selectAll().where('chain', '=', institutionId).where('subject_id', '=', contactId).orderBy('seq').execute();
  const decode = (v: string | null) => (v === null ? null : JSON.parse(open(key, v, contactId).toString('utf8')));
  const out = rows.map((r) => ({
    seq: Number(r.seq),
    occurredAt: new Date(r.occurred_at).toISOString(),
    action: r.action,
    actorLabel: r.actor_label,
    before: decode(r.before_enc),
    after: decode(r.after_enc),
    meta: r.meta ? JSON.parse(r.meta) : null,
  }));
  await recordAudit(ctx, ctx.db, { institutionId, actor, action: 'retention.support_read', target: { type: 'contact', id: contactId }, meta: { entries: out.length } });
  return out;
}
