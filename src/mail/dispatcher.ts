import type { AppContext } from '../context.ts';
import type { MailTransport } from './transport.ts';
import { unsubscribeUrl } from '../workflows/links.ts';
import { marketingRefusal } from './policy.ts';

export const MAX_MAIL_ATTEMPTS = 8;
const LEASE_MS = 120_000;
/** Messages leased per transaction and then sent concurrently. */
const BATCH = 20;

/**
 * Sends due outbox messages. Each is leased before sending so two workers never send the same
 * one; once it has left, its address and body are scrubbed, leaving only the template name,
 * the Message-ID and the status. Without a transport (no SMTP_URL) messages are held, readable
 * in the outbox view, so a newcomer sees what would have been sent.
 */
export async function dispatchDueMail(ctx: AppContext, transport: MailTransport | null, limit = 50): Promise<number> {
  const now = ctx.clock.now();
  if (!transport) {
    const held = await ctx.db.updateTable('outbox_messages').set({ status: 'held' }).where('status', '=', 'pending').executeTakeFirst();
    return Number(held.numUpdatedRows);
  }
  let sent = 0;
  for (let done = 0; done < limit; ) {
    const claimed = await claimBatch(ctx, now, Math.min(BATCH, limit - done));
    if (!claimed.length) break;
    done += claimed.length;
    // The batch is leased: its messages go out side by side over the transport's pooled connections.
    const outcomes = await Promise.all(claimed.map((row) => deliver(ctx, transport, row, now)));
    sent += outcomes.filter(Boolean).length;
  }
  return sent;
}

type OutboxRow = Awaited<ReturnType<typeof claimBatch>>[number];

/** Leases up to `size` due messages in one transaction, so no other worker sends them. */
async function claimBatch(ctx: AppContext, now: Date, size: number) {
  const nowIso = now.toISOString();
  return ctx.db.transaction().execute(async (trx) => {
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
      .limit(size);
    if (ctx.store.kind === 'postgres') pick = pick.forUpdate().skipLocked();
    const rows = await pick.execute();
    if (!rows.length) return rows;
    await trx
      .updateTable('outbox_messages')
      .set((eb) => ({ status: 'sending', lease_expires_at: new Date(now.getTime() + LEASE_MS).toISOString(), attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', rows.map((r) => r.id))
      .execute();
    return rows;
  });
}

/** Sends one leased message and records the outcome; true when it left. */
async function deliver(ctx: AppContext, transport: MailTransport, claimed: OutboxRow, now: Date): Promise<boolean> {
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
    return false;
  }
  try {
    await transport.send({
      from: ctx.config.mailFrom,
      to: claimed.to_address!,
      subject: claimed.subject ?? '',
      text: claimed.text_body ?? '',
      html: claimed.html_body ?? '',
      messageId: claimed.message_id,
      // RFC 8058 one-click unsubscribe, signed at sending time so the outbox stores no link.
      ...(claimed.category === 'marketing' && claimed.contact_id && claimed.institution_id
        ? { headers: { 'List-Unsubscribe': `<${unsubscribeUrl(ctx, claimed.institution_id, claimed.contact_id)}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }
        : {}),
    });
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
    return false;
  }
  await ctx.db
    .updateTable('outbox_messages')
    .set({ status: 'sent', sent_at: ctx.clock.now().toISOString(), to_address: null, subject: null, text_body: null, html_body: null, lease_expires_at: null, last_error: null })
    .where('id', '=', claimed.id)
    .execute();
  return true;
}
