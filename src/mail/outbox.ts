import type { Insertable } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import type { MailCategory, OutboxMessagesTable } from '../db/schema.ts';
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

export type OutboxRow = Insertable<OutboxMessagesTable>;

/**
 * The outbox row for a message (pure). The Message-ID is fixed now, so a retry after a crash
 * carries the same one. A refused message keeps no address or content: it is never sent.
 */
export function outboxRow(now: string, input: MailInput, refusal: string | null): { row: OutboxRow; queued: QueuedMail } {
  const id = newId();
  const messageId = `<${id}@lethe.local>`;
  const row: OutboxRow = {
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
  };
  return { row, queued: { id, messageId, status: refusal ? 'refused' : 'pending', ...(refusal ? { refusal } : {}) } };
}

/** 16 columns a row: 200 rows stay far below both engines' limits on bound parameters. */
const ROWS_PER_INSERT = 200;

/** Writes many outbox rows (a worker's batch of steps) in the caller's transaction, a multi-row INSERT per 200. */
export async function insertOutboxRows(db: Db, rows: readonly OutboxRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await db.insertInto('outbox_messages').values(rows.slice(i, i + ROWS_PER_INSERT)).execute();
}

/**
 * Writes a message to the outbox in the caller's transaction: it is sent if and only if the change
 * that caused it commits. Marketing mail to a contact who must not receive it is recorded as
 * refused, never sent.
 */
export async function enqueueMail(ctx: Pick<AppContext, 'clock' | 'log'>, db: Db, input: MailInput): Promise<QueuedMail> {
  const refusal = input.category === 'marketing' && input.contactId ? await marketingRefusal(db, input.contactId) : null;
  const { row, queued } = outboxRow(ctx.clock.now().toISOString(), input, refusal);
  await db.insertInto('outbox_messages').values(row).execute();
  if (refusal) ctx.log.info({ outboxId: queued.id, template: input.template, reason: refusal }, 'marketing mail refused');
  return queued;
}
