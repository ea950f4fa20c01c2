import type { AppContext, Db } from '../context.ts';
import type { LifecycleRow } from './state.ts';
import type { Actor } from '../audit/audit-log.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';
import { emitContactEvents } from '../webhooks/events.ts';
import { destroyExportsHolding } from '../exports/exports.ts';
import { appendAuditBatch } from './audit-batch.ts';
import { readLifecycleSettings } from './settings.ts';
import { cascadeTables, unlinkedContactTables } from './storage.ts';
import { addToSuppressionList } from './suppression.ts';

export const erasureReasons = ['contact_request', 'no_consent', 'retention', 'duplicate', 'staff_decision', 'other'] as const;
export type ErasureReason = (typeof erasureReasons)[number];

/** How an erasure was asked for, kept in its audit entry. */
export type ErasureVia = 'staff' | 'self_service' | 'bulk' | 'cli';

export interface ErasureOptions {
  mode: 'delete' | 'expunge';
  actor: Actor;
  reason: ErasureReason;
  via: ErasureVia;
  /** expunge: email the contact a confirmation before the address is destroyed (default true) */
  notify?: boolean;
}

export interface ErasureTarget {
  id: string;
  /** null: the row is already gone (deleted earlier); expunging then destroys what delete kept */
  row: LifecycleRow | null;
}

export interface ErasureResult {
  /** every table rows were removed from, for the storage-level completion after commit */
  tables: string[];
  confirmations: number;
}

export const EXPUNGE_CONFIRMATION_TEMPLATE = 'lifecycle.expunge_confirmation';

const confirmation = (institutionName: string) =>
  renderTemplate(
    {
      subject: 'Your data has been erased',
      text:
        'As requested, {{institution}} has permanently erased your profile and everything attached to it.\n\n' +
        'This message is the last one we send to this address: once it has left, no copy of the address remains with us.',
    },
    { institution: institutionName },
  );

/**
 * Deletes or expunges contacts in the caller's transaction, set-based (a bulk chunk costs about
 * what one contact does). Both remove the contact and every row that goes with it: the
 * foreign-key closure under `contacts` by cascade, and the unlinked tables (activity events,
 * pending mail, stored idempotent responses) by id. Expunge also destroys each contact's data key,
 * so its sealed audit entries read as shredded at once, optionally keeps keyed hashes on the
 * suppression list, and queues the confirmation email with the address as its only copy.
 * Each contact gets one audit entry without a subject (it must outlive the key) and no PII.
 * The caller completes the erasure at the storage level after commit (completeErasure).
 */
export async function eraseContacts(ctx: AppContext, trx: Db, institutionId: string, targets: ErasureTarget[], options: ErasureOptions): Promise<ErasureResult> {
  const now = ctx.clock.now().toISOString();
  const expunge = options.mode === 'expunge';
  const rows = targets.flatMap((t) => (t.row ? [t.row] : []));
  const ids = rows.map((r) => r.id);
  const tables = new Set<string>(ids.length ? [...(await cascadeTables(ctx, trx)), ...unlinkedContactTables] : []);
  if (expunge) tables.add('data_keys');

  // Related records' ids: a stored idempotent response of their creation holds their content.
  const related: string[] = [];
  const counts: Record<string, Record<string, number>> = Object.fromEntries(ids.map((id) => [id, {}]));
  if (ids.length) {
    for (const table of ['contact_notes', 'contact_meetings', 'contact_tasks', 'applications'] as const) {
      const found = await trx.selectFrom(table).select(['id', 'contact_id']).where('contact_id', 'in', ids).execute();
      for (const f of found) {
        related.push(f.id);
        counts[f.contact_id][table] = (counts[f.contact_id][table] ?? 0) + 1;
      }
    }
  }

  let confirmations = 0;
  let suppressed = false;
  if (expunge && rows.length) {
    const settings = await readLifecycleSettings(trx, institutionId);
    if (settings.suppressionList) {
      await addToSuppressionList(ctx, trx, institutionId, rows.map((r) => ({ email: r.email_normalized, mobileE164: r.mobile_e164 })), now);
      suppressed = true;
    }
  }
  // Pending mail for these contacts goes first, so the confirmation queued below survives.
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    await trx.deleteFrom('outbox_messages').where('contact_id', 'in', part).execute();
    await trx.deleteFrom('activity_events').where('contact_id', 'in', part).execute();
  }
  const resources = [...ids, ...related];
  for (let i = 0; i < resources.length; i += 500) await trx.deleteFrom('idempotency_keys').where('resource_id', 'in', resources.slice(i, i + 500)).execute();

  const notified = new Set<string>();
  if (expunge && options.notify !== false) {
    const recipients = rows.filter((r) => r.email);
    if (recipients.length) {
      const institution = await trx.selectFrom('institutions').select('name').where('id', '=', institutionId).executeTakeFirstOrThrow();
      const message = confirmation(institution.name);
      // Not linked to the contact (it is gone); the address is the message's only copy and is
      // scrubbed once sent (the erasure-notice tick then compacts it away).
      const notices = [];
      for (const r of recipients) {
        const queued = await enqueueMail(ctx, trx, { institutionId, contactId: null, category: 'transactional', template: EXPUNGE_CONFIRMATION_TEMPLATE, to: r.email!, message });
        notices.push({ outbox_id: queued.id, institution_id: institutionId, created_at: now });
        notified.add(r.id);
      }
      for (let i = 0; i < notices.length; i += 500) await trx.insertInto('erasure_notices').values(notices.slice(i, i + 500)).execute();
      confirmations = recipients.length;
    }
  }

  // Export files not yet delivered may hold these contacts: they are destroyed too.
  if (ids.length) await destroyExportsHolding(ctx, trx, institutionId, ids);
  for (let i = 0; i < ids.length; i += 500) await trx.deleteFrom('contacts').where('id', 'in', ids.slice(i, i + 500)).execute();
  const allIds = targets.map((t) => t.id);
  if (expunge) for (let i = 0; i < allIds.length; i += 500) await trx.deleteFrom('data_keys').where('subject_id', 'in', allIds.slice(i, i + 500)).execute();

  const action = expunge ? 'contact.expunge' : 'contact.delete';
  await appendAuditBatch(
    ctx,
    trx,
    institutionId,
    targets.map((t) => ({
      actor: options.actor,
      action,
      target: { type: 'contact', id: t.id },
      // No subject: the entry outlives the data key; it holds ids, counts and codes only.
      meta: {
        reason: options.reason,
        via: options.via,
        ...(t.row ? { removed: counts[t.id] } : { previously: 'deleted' }),
        ...(expunge ? { confirmationEmail: notified.has(t.id), suppressionList: suppressed && t.row !== null } : {}),
      },
    })),
  );
  await emitContactEvents(
    trx,
    institutionId,
    now,
    targets.map((t) => (expunge ? { type: 'contact.expunged' as const, contactId: t.id } : { type: 'contact.deleted' as const, contactId: t.id, data: { mode: 'hard' } })),
  );
  return { tables: [...tables], confirmations };
}
