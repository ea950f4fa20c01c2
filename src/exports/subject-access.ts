import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { newId } from '../ids.ts';
import { systemActor, type Actor } from '../audit/audit-log.ts';
import type { AuthContext } from '../access/auth.ts';
import { findVisibleContact } from '../contacts/contact-profile.ts';
import { normalizeEmail } from '../contacts/normalize.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';
import { invalidField, Problem } from '../http/problem.ts';
import { keyedHash } from '../security/server-secret.ts';
import { CODE_TTL_MINUTES, CODE_TTL_MS, MAX_ATTEMPTS, hashVerificationCode, newVerificationCode } from '../intake/rules/verification-code.ts';
import { insertExport, moveExport, scheduleProduction, viewerOfAuth, type ExportRow } from './exports.ts';
import type { ExportScope } from './sources.ts';
import { systemViewer } from '../contacts/visibility.ts';

/**
 * Right of access (seed 004): a person obtains everything Lethe holds about them, as a JSON copy
 * and a readable HTML page, through the same encrypted one-time download as every export. Staff
 * can produce it for a contact; the public self-service pages call requestSubjectAccessCode and
 * confirmSubjectAccessCode. The public answers never reveal whether an address is known, and an
 * expunged or anonymised person (no address left on any record) gets nothing.
 */

async function createSubjectExport(
  ctx: AppContext,
  trx: Db,
  institutionId: string,
  contactIds: string[],
  requestedBy: { userId: string | null; actor: Actor; viewer: unknown },
  deliverTo: 'requester' | 'contact',
): Promise<ExportRow> {
  const row = await insertExport(
    ctx,
    trx,
    {
      institution_id: institutionId,
      organization_id: null,
      kind: 'subject_access',
      scope: JSON.stringify({ type: 'subject', contactIds } satisfies ExportScope),
      format: 'json',
      reason: 'right of access',
      agency: 0,
      requested_by: requestedBy.userId,
      requester_label: requestedBy.actor.label,
      contact_id: contactIds[0],
      deliver_to: deliverTo,
      viewer: JSON.stringify(requestedBy.viewer),
      approver_role: 'automatic',
    },
    requestedBy.actor,
    { kind: 'subject_access', contacts: contactIds.length, deliverTo },
  );
  // The right of access needs no approval: it is approved as it is made.
  const approved = await moveExport(ctx, trx, row, 'approved', systemActor, { decided_at: row.created_at }, { rule: 'right_of_access' });
  return scheduleProduction(ctx, trx, approved);
}

export const subjectAccessBody = z.strictObject({
  deliverTo: z
    .enum(['contact', 'requester'])
    .default('contact')
    .describe('who receives the one-time link: the person (at their email address) or you, to hand it over'),
});

/** Staff produce a person's copy of their data (the contact must be visible to them). */
export async function createSubjectAccessExport(
  ctx: AppContext,
  institutionId: string,
  auth: AuthContext,
  contactId: string,
  deliverTo: 'contact' | 'requester',
): Promise<ExportRow> {
  if (auth.user.platformRole) throw new Problem(403, 'Subject access copies are produced by the institution’s own staff, not by platform users.');
  const contact = await findVisibleContact(ctx.db, institutionId, viewerOfAuth(auth), contactId);
  if (deliverTo === 'contact' && !contact.email) {
    throw invalidField('deliverTo', 'the contact has no email address; use deliverTo "requester" and hand the copy over yourself');
  }
  return ctx.db.transaction().execute((trx) =>
    createSubjectExport(ctx, trx, institutionId, [contact.id], { userId: auth.user.id, actor: auth.actor, viewer: systemViewer }, deliverTo),
  );
}

export const GENERIC_SENT =
  'If we hold data about this address, we have sent a code to it. Enter the code to receive a one-time link to your data. The code is valid for ' +
  `${CODE_TTL_MINUTES} minutes.`;
export const CONFIRMED =
  'Thank you: your address is confirmed. We are preparing your copy; a one-time download link will arrive by email shortly.';
export const WRONG_CODE = 'That code is not correct or has expired. Ask for a new code and try again.';
/** codes per address per hour: more are not sent (the answer stays the same) */
const MAX_CODES_PER_HOUR = 5;

function emailHashOf(ctx: AppContext, institutionId: string, email: string): string {
  return keyedHash(ctx.secrets.piiHashKey, `subject-access:${institutionId}:${email}`);
}

function checkedEmail(raw: string): string {
  const email = normalizeEmail(raw);
  if (!email || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw invalidField('email', 'must be an email address like name@example.org');
  return email;
}

async function contactsWithEmail(db: Db, institutionId: string, email: string): Promise<{ id: string; email: string | null }[]> {
  return db.selectFrom('contacts').select(['id', 'email']).where('institution_id', '=', institutionId).where('email_normalized', '=', email).orderBy('id').execute();
}

/**
 * Step 1 of the public flow: a person enters their address. A code is emailed only when a
 * contact holds that address; the answer is the same either way.
 */
export async function requestSubjectAccessCode(ctx: AppContext, institutionId: string, rawEmail: string): Promise<{ requestId: string; message: string }> {
  const email = checkedEmail(rawEmail);
  const emailHash = emailHashOf(ctx, institutionId, email);
  const now = ctx.clock.now();
  const requestId = newId();
  await ctx.db.transaction().execute(async (trx) => {
    const recent = await trx
      .selectFrom('subject_access_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('institution_id', '=', institutionId)
      .where('email_hash', '=', emailHash)
      .where('code_hash', 'is not', null)
      .where('issued_at', '>', new Date(now.getTime() - 3_600_000).toISOString())
      .executeTakeFirstOrThrow();
    const contacts = await contactsWithEmail(trx, institutionId, email);
    const send = contacts.length > 0 && Number(recent.n) < MAX_CODES_PER_HOUR;
    const code = newVerificationCode();
    await trx
      .insertInto('subject_access_requests')
      .values({
        id: requestId,
        institution_id: institutionId,
        email_hash: emailHash,
        code_hash: send ? hashVerificationCode(ctx.secrets.tokenKey, code, requestId) : null,
        attempts: 0,
        issued_at: now.toISOString(),
        verified_at: null,
        export_id: null,
      })
      .execute();
    if (send) {
      await enqueueMail(ctx, trx, {
        institutionId,
        contactId: contacts[0].id,
        category: 'transactional',
        template: 'subject_access.code',
        to: contacts[0].email ?? email,
        message: renderTemplate(
          {
            subject: 'Your code to download your personal data',
            text:
              'Someone (hopefully you) asked for a copy of the personal data we hold about this address. Enter this code on the page where you asked:\n\n' +
              '    {{code}}\n\n' +
              `The code is valid for ${CODE_TTL_MINUTES} minutes. If you did not ask, ignore this email: nothing is sent without the code.`,
          },
          { code },
        ),
      });
    }
  });
  return { requestId, message: GENERIC_SENT };
}

/**
 * Step 2: the person enters the code (with the address they gave). On success the copy is
 * produced and its one-time link emailed to that address.
 */
export async function confirmSubjectAccessCode(
  ctx: AppContext,
  institutionId: string,
  input: { requestId: string; email: string; code: string },
): Promise<{ message: string; exportIds: string[] }> {
  const email = checkedEmail(input.email);
  const now = ctx.clock.now();
  const wrong = () => new Problem(422, WRONG_CODE, [{ field: 'code', message: 'is not correct or has expired' }]);
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const request = await trx.selectFrom('subject_access_requests').selectAll().where('id', '=', input.requestId).where('institution_id', '=', institutionId).executeTakeFirst();
    const usable =
      request &&
      request.email_hash === emailHashOf(ctx, institutionId, email) &&
      request.code_hash !== null &&
      request.verified_at === null &&
      request.attempts < MAX_ATTEMPTS &&
      now.getTime() - Date.parse(request.issued_at) < CODE_TTL_MS;
    if (!request || !usable) return null;
    const code = input.code.replace(/\s+/g, '');
    if (hashVerificationCode(ctx.secrets.tokenKey, code, request.id) !== request.code_hash) {
      // Counted with a conditional update (committed), so parallel guesses cannot share one attempt.
      await trx.updateTable('subject_access_requests').set({ attempts: request.attempts + 1 }).where('id', '=', request.id).where('attempts', '=', request.attempts).execute();
      return null;
    }
    const contacts = await contactsWithEmail(trx, institutionId, email);
    if (contacts.length === 0) return null;
    const row = await createSubjectExport(ctx, trx, institutionId, contacts.map((c) => c.id), { userId: null, actor: { userId: null, label: 'subject-access' }, viewer: systemViewer }, 'contact');
    await trx.updateTable('subject_access_requests').set({ verified_at: now.toISOString(), export_id: row.id }).where('id', '=', request.id).execute();
    return { message: CONFIRMED, exportIds: [row.id] };
  });
  if (!outcome) throw wrong();
  return outcome;
}
