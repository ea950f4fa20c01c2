import type { AppContext, Db } from '../context.ts';
import type { MailCategory } from '../db/schema.ts';
import { newId } from '../ids.ts';
import type { RenderedMail } from './template.ts';
import { marketingRefusal } from './policy.ts';

export interface MailInput {
  institutionId: string | null;
  contactId?: string | null;
  category: MailCategory;
  /** the template's name, kept after the message is scrubbed so the log says what was sent */
  template: string;
  to: string;
  message: RenderedMail;
}

export interface QueuedMail {
  id: string;
  messageId: string;
  status: 'pending' | 'refused';
  refusal?: string;
}

/**
 * Writes a message to the outbox in the caller's transaction: it is sent if and only if the change
 * that caused it commits. The Message-ID is fixed now, so a retry after a crash carries the same one.
 * Marketing mail to a contact who must not receive it is recorded as refused, never sent.
 */
export async function enqueueMail(ctx: Pick<AppContext, 'clock' | 'log'>, db: Db, input: MailInput): Promise<QueuedMail> {
  const now = ctx.clock.now().toISOString();
  const id = newId();
  const messageId = `<${id}@lethe.local>`;
  const refusal = input.category === 'marketing' && input.contactId ? await marketingRefusal(db, input.contactId) : null;
  await db
    .insertInto('outbox_messages')
    .values({
      id,
      institution_id: input.institutionId,
      contact_id: input.contactId ?? null,
      category: input.category,
      template: input.template,
      to_address: refusal ? null : input.to,
      subject: refusal ? null : input.message.subject,
      text_body: refusal ? null : input.message.text,
      html_body: refusal ? null : input.message.html,
      message_id: messageId,
      status: refusal ? 'refused' : 'pending',
      attempts: 0,
      next_attempt_at: now,
      lease_expires_at: null,
      last_error: refusal,
      created_at: now,
      sent_at: null,
    })
    .execute();
  if (refusal) ctx.log.info({ outboxId: id, template: input.template, reason: refusal }, 'marketing mail refused');
  return { id, messageId, status: refusal ? 'refused' : 'pending', ...(refusal ? { refusal } : {}) };
}
