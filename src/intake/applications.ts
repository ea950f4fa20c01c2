import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { applicationStatuses } from '../db/schema.ts';
import { dataKeyFor, existingDataKey } from '../audit/data-keys.ts';
import { open, seal } from '../security/aead.ts';
import { findVisibleContact } from '../contacts/contact-profile.ts';
import type { Viewer } from '../contacts/visibility.ts';
import type { Submission } from './apply.ts';

export const applicationView = z.object({
  id: z.string(),
  formId: z.string().nullable(),
  organizationId: z.string().nullable(),
  status: z.enum(applicationStatuses),
  submitted: z
    .object({
      firstName: z.string(),
      lastName: z.string(),
      email: z.string().nullable(),
      mobilePhone: z.string().nullable(),
      ssnGiven: z.boolean().describe('the applicant gave an SSN (kept only as keyed hashes)'),
    })
    .nullable()
    .describe('what the applicant entered on this application; null once the contact has been erased'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ApplicationView = z.infer<typeof applicationView>;

/** A contact's applications, newest first, each with what was entered on it (readable to who may see the contact). */
export async function listContactApplications(db: Db, masterKey: Buffer, institutionId: string, viewer: Viewer, contactId: string): Promise<ApplicationView[]> {
  const contact = await findVisibleContact(db, institutionId, viewer, contactId);
  const rows = await db
    .selectFrom('applications')
    .selectAll()
    .where('institution_id', '=', institutionId)
    .where('contact_id', '=', contact.id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const key = rows.length ? await existingDataKey(db, masterKey, contact.id) : null;
  return rows.map((r) => {
    let submitted: ApplicationView['submitted'] = null;
    const s = key && r.submitted_enc ? openSubmission(key, r.id, r.submitted_enc) : null;
    if (s) submitted = { firstName: s.firstName, lastName: s.lastName, email: s.email, mobilePhone: s.mobilePhone, ssnGiven: s.ssnHashes !== null };
    return { id: r.id, formId: r.form_id, organizationId: r.organization_id, status: r.status, submitted, createdAt: r.created_at, updatedAt: r.updated_at };
  });
}

/** What the applicant entered, or null when it cannot be read with this key (sealed for another contact). */
export function openSubmission(key: Buffer, applicationId: string, sealed: string): Submission | null {
  try {
    return JSON.parse(open(key, sealed, `application:${applicationId}`).toString('utf8')) as Submission;
  } catch {
    return null;
  }
}

/**
 * For the merge tool: an application's entered data is sealed with its contact's data key, so
 * moving applications to another contact re-seals them with that contact's key (in the merge's
 * transaction, before the old contact's key is destroyed). Returns how many were moved.
 */
export async function moveApplications(ctx: Pick<AppContext, 'secrets' | 'clock'>, trx: Db, institutionId: string, fromContactId: string, toContactId: string): Promise<number> {
  const rows = await trx
    .selectFrom('applications')
    .select(['id', 'submitted_enc'])
    .where('institution_id', '=', institutionId)
    .where('contact_id', '=', fromContactId)
    .execute();
  if (rows.length === 0) return 0;
  const now = ctx.clock.now().toISOString();
  const fromKey = await existingDataKey(trx, ctx.secrets.masterKey, fromContactId);
  const toKey = await dataKeyFor(trx, ctx.secrets.masterKey, toContactId, institutionId, now);
  for (const row of rows) {
    const submission = fromKey && row.submitted_enc ? openSubmission(fromKey, row.id, row.submitted_enc) : null;
    await trx
      .updateTable('applications')
      .set({
        contact_id: toContactId,
        submitted_enc: submission ? seal(toKey, JSON.stringify(submission), `application:${row.id}`) : null,
        updated_at: now,
      })
      .where('id', '=', row.id)
      .execute();
  }
  return rows.length;
}
