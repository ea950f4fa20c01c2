import type { AppContext } from '../context.ts';
import type { MailTransport } from './transport.ts';
import { marketingRefusal } from './policy.ts';

export const MAX_MAIL_ATTEMPTS = 8;
const LEASE_MS = 120_000;

/**
 * Sends due outbox messages. Each is leased before sending so two workers never send the same
 * one; once it has left, its address and body are scrubbed, leaving only the template name,
 * the Message-ID and the status. Without a transport (no SMTP_URL) messages are held, readable
 * in the outbox view, so a newcomer sees what would have been sent.
 */
export async function dispatchDueMail(ctx: AppContext, transport: MailTransport | null, limit = 50): Promise<number> {
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  if (!transport) {
    const held = await ctx.db.updateTable('outbox_messages').set({ status: 'held' }).where('status', '=', 'pending').executeTakeFirst();
    return Number(held.numUpdatedRows);
  }
  let sent = 0;
  for (let i = 0; i < limit; i++) {
    const claimed = await ctx.db.transaction().execute(async (trx) => {
      let pick = trx
        .selectFrom('outbox_messages')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', nowIso)]),
            eb.and([eb('status', '=', 'sending'), eb('lease_expires_at', '<', nowIso)]),
          ]),
        )
        .orderBy('next_attempt_at')
        .limit(1);
      if (ctx.store.kind === 'postgres') pick = pick.forUpdate().skipLocked();
      const row = await pick.executeTakeFirst();
      if (!row) return null;
      await trx
        .updateTable('outbox_messages')
        .set({ status: 'sending', lease_expires_at: new Date(now.getTime() + LEASE_MS).toISOString(), attempts: row.attempts + 1 })
        .where('id', '=', row.id)
        .execute();
      return row;
    });
    if (!claimed) break;
    // Asked again at sending time: the contact may have been archived ("do not email"), disabled
    // or opted out since the message was queued, and every send honours that.
    const refusal = claimed.category === 'marketing' && claimed.contact_id ? await marketingRefusal(ctx.db, claimed.contact_id) : null;
    if (refusal) {
      await ctx.db
        .updateTable('outbox_messages')
        .set({ status: 'refused', last_error: refusal, to_address: null, subject: null, text_body: null, html_body: null, lease_expires_at: null })
        .where('id', '=', claimed.id)
        .execute();
      ctx.log.info({ outboxId: claimed.id, template: claimed.template, reason: refusal }, 'marketing mail refused');
      continue;
    }
    try {
      await transport.send({
        from: ctx.config.mailFrom,
        to: claimed.to_address!,
        subject: claimed.subject ?? '',
        text: claimed.text_body ?? '',
        html: claimed.html_body ?? '',
        messageId: claimed.message_id,
      });
      await ctx.db
        .updateTable('outbox_messages')
        .set({ status: 'sent', sent_at: ctx.clock.now().toISOString(), to_address: null, subject: null, text_body: null, html_body: null, lease_expires_at: null, last_error: null })
        .where('id', '=', claimed.id)
        .execute();
      sent++;
    } catch (error) {
      const attempts = claimed.attempts + 1;
      const final = attempts >= MAX_MAIL_ATTEMPTS;
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      ctx.log.warn({ outboxId: claimed.id, attempts, final }, 'mail send failed');
      await ctx.db
        .updateTable('outbox_messages')
        .set({
          status: final ? 'failed' : 'pending',
          last_error: message,
          lease_expires_at: null,
          next_attempt_at: new Date(now.getTime() + Math.min(3_600_000, 30_000 * 2 ** (attempts - 1))).toISOString(),
          // A message that will never be sent keeps no address either.
          ...(final ? { to_address: null, subject: null, text_body: null, html_body: null } : {}),
        })
        .where('id', '=', claimed.id)
        .execute();
    }
  }
  return sent;
}
