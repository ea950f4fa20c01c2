import { sql } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import type { Actor } from '../audit/audit-log.ts';
import type { Contact } from '../db/schema.ts';
import { prepareAuditBatch } from '../lifecycle/audit-batch.ts';
import { cascadeTables, foreignKeys, unlinkedContactTables } from '../lifecycle/storage.ts';
import { destroyExportsHolding } from '../exports/exports.ts';
import { emitContactEvents } from '../webhooks/events.ts';

/** What an anonymised contact keeps: the ticketing links (orders stay for accounting) and its recency. */
const keptOnAnonymise = new Set(['ticket_order_contacts', 'ticket_options', 'waitlist_entries', 'contact_recency', 'anonymised_contacts']);

export const ANONYMISED_FIRST_NAME = 'Anonymised';
export const ANONYMISED_LAST_NAME = 'Contact';

/**
 * Tables that point at contacts and what a deletion does to them (from the schema, so later tables
 * are covered). Anonymisation keeps the contact row, so it applies the same rule itself: cascading
 * rows are deleted and set-null links cut, which takes e.g. workflow runs out of the stub's
 * history as a deletion would.
 */
const contactLinks = async (ctx: Pick<AppContext, 'store'>, db: Db) =>
  (await foreignKeys(ctx, db)).filter((fk) => fk.parent === 'contacts' && fk.onDelete !== 'other' && !keptOnAnonymise.has(fk.child));

const inChunks = async <T>(items: T[], size: number, work: (part: T[]) => Promise<unknown>) => {
  for (let i = 0; i < items.length; i += size) await work(items.slice(i, i + size));
};

/**
 * Moves subjects' data keys out of `data_keys` (where the staff audit view finds them) into
 * `retention_support_keys`, kept until `expiresAt`: until then only platform support can open their
 * sealed audit entries (every read audited); the log-retention job then destroys them.
 */
export async function handKeysToSupport(trx: Db, institutionId: string, subjectIds: string[], now: string, expiresAt: string): Promise<void> {
  await inChunks(subjectIds, 500, async (part) => {
    const keys = await trx.selectFrom('data_keys').select(['subject_id', 'wrapped_key']).where('subject_id', 'in', part).execute();
    if (keys.length) {
      await trx
        .insertInto('retention_support_keys')
        .values(keys.map((k) => ({ subject_id: k.subject_id, institution_id: institutionId, wrapped_key: k.wrapped_key, anonymised_at: now, expires_at: expiresAt })))
        .onConflict((oc) => oc.column('subject_id').doNothing())
        .execute();
    }
    await trx.deleteFrom('data_keys').where('subject_id', 'in', part).execute();
  });
}

/**
 * Anonymises contacts irreversibly, set-based, in the caller's transaction (seed 004): names
 * replaced, email, phone, SSN hashes, employer, owner removed; custom attributes, consent, notes,
 * meetings, tasks, applications, activity, pending mail and stored responses deleted; orders kept,
 * pointing at the stub. What was removed is kept only in one audit entry per contact sealed with
 * the contact's key, which is handed to support for the log-retention period. Returns the tables
 * touched, for the storage-level completion after commit (completeErasure).
 */
export async function anonymiseContacts(
  ctx: AppContext,
  trx: Db,
  institutionId: string,
  rows: Contact[],
  options: { actor: Actor; runId: string | null; supportUntil: string },
): Promise<string[]> {
  if (rows.length === 0) return [];
  const now = ctx.clock.now().toISOString();
  const ids = rows.map((r) => r.id);

  // What support may recover: the removed values, sealed with each contact's key.
  const [attributes, authorizations, notes, meetings, tasks] = await Promise.all([
    trx.selectFrom('contact_attribute_values as v').innerJoin('attribute_definitions as d', 'd.id', 'v.attribute_id').select(['v.contact_id', 'd.key', 'v.value_text']).where('v.contact_id', 'in', ids).execute(),
    trx.selectFrom('contact_authorizations').select(['contact_id', 'purpose', 'granted']).where('contact_id', 'in', ids).execute(),
    trx.selectFrom('contact_notes').select(['id', 'contact_id', 'body']).where('contact_id', 'in', ids).execute(),
    trx.selectFrom('contact_meetings').select(['id', 'contact_id', 'title', 'notes']).where('contact_id', 'in', ids).execute(),
    trx.selectFrom('contact_tasks').select(['id', 'contact_id', 'title']).where('contact_id', 'in', ids).execute(),
  ]);
  const applications = await trx.selectFrom('applications').select('id').where('contact_id', 'in', ids).execute();
  const group = <T extends { contact_id: string }>(list: T[]) => {
    const m = new Map<string, T[]>();
    for (const x of list) m.set(x.contact_id, [...(m.get(x.contact_id) ?? []), x]);
    return m;
  };
  const [byAttr, byAuth, byNote, byMeeting, byTask] = [group(attributes), group(authorizations), group(notes), group(meetings), group(tasks)];

  // Sealed (on the sealing thread, for a batch chunk) while the rows below are deleted and rewritten.
  const audited = await prepareAuditBatch(
    ctx,
    trx,
    institutionId,
    rows.map((r) => ({
      actor: options.actor,
      action: 'contact.anonymise',
      target: { type: 'contact', id: r.id },
      subjectId: r.id,
      before: {
        firstName: r.first_name,
        lastName: r.last_name,
        email: r.email,
        mobilePhone: r.mobile_phone,
        ssnOnFile: r.ssn_hash_full !== null,
        employerId: r.employer_id,
        ownerUserId: r.owner_user_id,
        optInStatus: r.opt_in_status,
        attributes: Object.fromEntries((byAttr.get(r.id) ?? []).map((a) => [a.key, a.value_text])),
        authorizations: Object.fromEntries((byAuth.get(r.id) ?? []).map((a) => [a.purpose, a.granted === 1])),
        notes: (byNote.get(r.id) ?? []).map((n) => n.body),
        meetings: (byMeeting.get(r.id) ?? []).map((m) => ({ title: m.title, notes: m.notes })),
        tasks: (byTask.get(r.id) ?? []).map((t) => t.title),
      },
      meta: { reason: 'inactivity', runId: options.runId },
    })),
  );
  const related = [...notes, ...meetings, ...tasks, ...applications].map((x) => x.id);
  await inChunks([...ids, ...related], 500, (part) => trx.deleteFrom('idempotency_keys').where('resource_id', 'in', part).execute());
  await inChunks(ids, 500, async (part) => {
    await trx.deleteFrom('activity_events').where('contact_id', 'in', part).execute();
    await trx.deleteFrom('outbox_messages').where('contact_id', 'in', part).execute();
    for (const link of await contactLinks(ctx, trx)) {
      if (link.onDelete === 'cascade') await sql`delete from ${sql.table(link.child)} where ${sql.ref(link.column)} in (${sql.join(part)})`.execute(trx);
      else await sql`update ${sql.table(link.child)} set ${sql.ref(link.column)} = null where ${sql.ref(link.column)} in (${sql.join(part)})`.execute(trx);
    }
  });
  await destroyExportsHolding(ctx, trx, institutionId, ids);
  await inChunks(ids, 500, async (part) => {
    await trx
      .updateTable('contacts')
      .set({
        first_name: ANONYMISED_FIRST_NAME,
        last_name: ANONYMISED_LAST_NAME,
        first_name_folded: ANONYMISED_FIRST_NAME.toLowerCase(),
        last_name_folded: ANONYMISED_LAST_NAME.toLowerCase(),
        email: null,
        email_normalized: null,
        mobile_phone: null,
        mobile_e164: null,
        ssn_hash_full: null,
        ssn_hash_last6: null,
        ssn_hash_last4: null,
        employer_id: null,
        owner_user_id: null,
        opt_in_status: 'unknown',
        opt_in_changed_at: null,
        updated_at: now,
      })
      .where('id', 'in', part)
      .execute();
    await trx.insertInto('anonymised_contacts').values(part.map((id) => ({ stub_id: id, institution_id: institutionId, anonymised_at: now, run_id: options.runId }))).execute();
  });
  // The audit entries last: appending takes the institution's chain lock (on PostgreSQL a row lock
  // held to COMMIT), so every other write of the institution waits only for the end of this chunk.
  await audited.append();
  await handKeysToSupport(trx, institutionId, ids, now, options.supportUntil);
  await emitContactEvents(trx, institutionId, now, ids.map((id) => ({ type: 'contact.anonymised' as const, contactId: id, data: { reason: 'inactivity' } })));
  return [...new Set(['contacts', ...(await cascadeTables(ctx, trx)), ...unlinkedContactTables])];
}

/** Anonymises beneficiary names on ticket lines, in place (they are names, not contacts). */
export async function anonymiseBeneficiaryLines(trx: Db, lineIds: string[], now: string): Promise<number> {
  let n = 0;
  await inChunks(lineIds, 500, async (part) => {
    const r = await trx
      .updateTable('ticket_order_lines')
      .set({ beneficiary_first_name: ANONYMISED_FIRST_NAME, beneficiary_last_name: 'Beneficiary', beneficiary_anonymised_at: now })
      .where('id', 'in', part)
      .where('beneficiary_anonymised_at', 'is', null)
      .executeTakeFirst();
    n += Number(r.numUpdatedRows);
  });
  return n;
}
