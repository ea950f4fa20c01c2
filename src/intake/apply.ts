import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import type { ApplicationStatus } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { dataKeyFor } from '../audit/data-keys.ts';
import { recordActivity } from '../activity/events.ts';
import { seal } from '../security/aead.ts';
import { invalidFields, type FieldError } from '../http/problem.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';
import { createContactIn, type Caller } from '../contacts/contacts.ts';
import { foldName, tidyName } from '../contacts/normalize.ts';
import { systemViewer } from '../contacts/visibility.ts';
import { candidateFromInput } from './rules/candidate.ts';
import type { Candidate } from './rules/match.ts';
import { givenValue, type SsnHashes } from './rules/normalize.ts';
import {
  CODE_TTL_MS,
  issueCode,
  newVerificationCode,
  RESEND_MIN_INTERVAL_MS,
  verificationEmail,
  verificationOutcome,
  type MatchedProfileFacts,
} from './rules/verification.ts';
import { findDuplicates, lockDuplicateKeys, type DuplicateMatch } from './duplicates.ts';
import { effectiveRuleOf, findOpenForm, formFieldsOf, type FormFieldName, type FormRow } from './forms.ts';
import { ProblemWith } from './problems.ts';
import { readIntakeSettings } from './settings.ts';
import { suppressionCheck } from './suppression.ts';

/**
 * The public apply endpoint's service (seed 002). An application creates a contact (source
 * application) or attaches to the existing one the duplicate rule finds, never overwriting it.
 * With verification on and a match, nothing of the existing profile changes: the application waits
 * for a 6-digit code sent to the email address on that profile (verifications.ts merges it), or is
 * stopped with the seed's "full stop" or family message.
 */

export const applyBody = z.strictObject({
  firstName: z.string().max(200).nullable().optional(),
  lastName: z.string().max(200).nullable().optional(),
  email: z.string().max(254).nullable().optional(),
  mobilePhone: z.string().max(40).nullable().optional(),
  ssn: z.string().max(20).nullable().optional().describe('123-45-6789 or 123456789; kept only as keyed hashes'),
});
export type ApplyInput = z.infer<typeof applyBody>;

/** What the applicant entered, as kept (sealed) on the application; the SSN only as its hashes. */
export interface Submission {
  firstName: string;
  lastName: string;
  email: string | null;
  mobilePhone: string | null;
  mobileE164: string | null;
  ssnHashes: SsnHashes | null;
}

export const RECEIVED_MESSAGE = 'Thank you, your application has been received.';

export type ApplyResult =
  | { status: 'received'; applicationId: string; message: string }
  | {
      status: 'verification_required';
      outcome: 'default';
      applicationId: string;
      verificationId: string;
      message: string;
      codeExpiresAt: string;
      resendAvailableAt: string;
    };

/** Applicants act without an account; their actor label names the form, never the person. */
export function applicantActor(formId: string): Actor {
  return { userId: null, label: `applicant:${formId}` };
}

function applicantCaller(form: FormRow): Caller {
  return { viewer: systemViewer, actor: applicantActor(form.id), organizationId: form.organization_id, viaToken: false };
}

/** Checks the input against the form and normalises it; throws 422 naming every bad field. */
function checkAgainstForm(form: FormRow, input: ApplyInput, opts: { defaultRegion: Parameters<typeof candidateFromInput>[1]['defaultRegion']; piiHashKey: Buffer }) {
  const fields = formFieldsOf(form);
  const onForm = new Set<string>(fields.map((f) => f.field));
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (!onForm.has(key) && givenValue(value) !== null) errors.push({ field: key, message: 'is not a field of this form' });
  }
  const given = (field: FormFieldName) => (onForm.has(field) ? givenValue(input[field]) : null);
  for (const f of fields) if (f.required && given(f.field) === null) errors.push({ field: f.field, message: 'is required' });
  for (const field of ['firstName', 'lastName'] as const) {
    const value = given(field);
    if (value !== null && foldName(tidyName(value)) === '') errors.push({ field, message: 'must contain letters' });
  }
  const { candidate, errors: valueErrors } = candidateFromInput(
    { email: given('email'), mobilePhone: given('mobilePhone'), lastName: given('lastName'), ssn: given('ssn') },
    opts,
  );
  errors.push(...valueErrors);
  if (errors.length) {
    throw invalidFields(errors, `The application was not sent: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}. Nothing was saved.`);
  }
  const submission: Submission = {
    firstName: tidyName(given('firstName')!),
    lastName: tidyName(given('lastName')!),
    email: given('email')?.trim() ?? null,
    mobilePhone: given('mobilePhone')?.trim() ?? null,
    mobileE164: candidate.mobileE164 ?? null,
    ssnHashes: candidate.ssnHashFull ? { full: candidate.ssnHashFull, last6: candidate.ssnHashLast6!, last4: candidate.ssnHashLast4! } : null,
  };
  return { candidate, submission };
}

/**
 * The profile an application is about when several match: the one whose email the applicant gave
 * (the code goes there, and the applicant proves access to it), preferring the same first name
 * (two people of one household may share an address); otherwise the oldest.
 */
export function primaryMatch(matches: DuplicateMatch[], candidate: Candidate, firstNameFolded: string): DuplicateMatch {
  const score = (m: DuplicateMatch) =>
    (candidate.emailNormalized && m.emailNormalized === candidate.emailNormalized ? 2 : 0) + (m.firstNameFolded === firstNameFolded ? 1 : 0);
  return matches.reduce((best, m) => (score(m) > score(best) ? m : best), matches[0]);
}

export function factsAbout(match: DuplicateMatch, candidate: Candidate, firstNameFolded: string): MatchedProfileFacts {
  return {
    hasEmail: match.emailNormalized !== null,
    emailMatchesApplicant: Boolean(candidate.emailNormalized) && match.emailNormalized === candidate.emailNormalized,
    lastNameMatchesApplicant: Boolean(candidate.lastNameFolded) && match.lastNameFolded === candidate.lastNameFolded,
    firstNameMatchesApplicant: match.firstNameFolded === firstNameFolded,
  };
}

async function insertApplication(
  ctx: AppContext,
  trx: Db,
  form: FormRow,
  contactId: string,
  status: ApplicationStatus,
  submission: Submission,
  now: string,
): Promise<string> {
  const id = newId(Date.parse(now));
  // Sealed with the contact's data key: erasing the contact (row cascade, key destruction) erases it.
  const key = await dataKeyFor(trx, ctx.secrets.masterKey, contactId, form.institution_id, now);
  await trx
    .insertInto('applications')
    .values({
      id,
      institution_id: form.institution_id,
      form_id: form.id,
      contact_id: contactId,
      organization_id: form.organization_id,
      status,
      submitted_enc: seal(key, JSON.stringify(submission), `application:${id}`),
      created_at: now,
      updated_at: now,
    })
    .execute();
  await recordActivity(trx, {
    institutionId: form.institution_id,
    contactId,
    organizationId: form.organization_id,
    actorUserId: null,
    type: 'application.submitted',
    occurredAt: now,
    data: { applicationId: id, formId: form.id, status },
  });
  return id;
}

export async function applyToForm(ctx: AppContext, formId: string, input: ApplyInput): Promise<ApplyResult> {
  // One transaction from the first read: on SQLite a request then waits for the connection once,
  // which keeps the queue fair under load; a refusal (422, 409) rolls back having written nothing.
  return ctx.db.transaction().execute(async (trx): Promise<ApplyResult> => {
    const form = await findOpenForm(trx, formId);
    const institutionId = form.institution_id;
    const settings = await readIntakeSettings(trx, institutionId);
    const { candidate, submission } = checkAgainstForm(form, input, { defaultRegion: settings.defaultRegion, piiHashKey: ctx.secrets.piiHashKey });
    const rule = effectiveRuleOf(form, settings.duplicateRule);
    const firstNameFolded = foldName(submission.firstName);
    const now = ctx.clock.now();
    const at = now.toISOString();

    const suppressed = await suppressionCheck(ctx, trx, institutionId, { email: candidate.emailNormalized ?? null, mobileE164: candidate.mobileE164 ?? null });
    if (suppressed) {
      // The person asked to be forgotten: nothing is stored, and the answer does not reveal why.
      ctx.log.info({ formId, outcome: 'suppressed' }, 'application not stored');
      return { status: 'received', applicationId: newId(now.getTime()), message: RECEIVED_MESSAGE };
    }

    await lockDuplicateKeys(ctx, trx, institutionId, rule, candidate);
    const matches = await findDuplicates(trx, institutionId, rule, candidate);
    const caller = applicantCaller(form);

    if (matches.length === 0) {
      const profile = await createContactIn(
        ctx,
        trx,
        institutionId,
        caller,
        {
          firstName: submission.firstName,
          lastName: submission.lastName,
          email: submission.email,
          mobilePhone: submission.mobilePhone,
          ssnHashes: submission.ssnHashes,
          source: 'application',
          organizationId: form.organization_id,
        },
        { defaultRegion: settings.defaultRegion },
      );
      const applicationId = await insertApplication(ctx, trx, form, profile.id, 'created', submission, at);
      return { status: 'received', applicationId, message: RECEIVED_MESSAGE };
    }

    const primary = primaryMatch(matches, candidate, firstNameFolded);
    if (!form.verification_enabled) {
      // Seed 002: applying again attaches another application and leaves the profile as it is.
      const applicationId = await insertApplication(ctx, trx, form, primary.id, 'attached', submission, at);
      await recordAudit(ctx, trx, {
        institutionId,
        actor: caller.actor,
        action: 'application.attach',
        target: { type: 'application', id: applicationId },
        subjectId: primary.id,
        meta: { formId: form.id, contactId: primary.id, reason: primary.reason },
      });
      return { status: 'received', applicationId, message: RECEIVED_MESSAGE };
    }

    const decision = verificationOutcome({
      formVerificationEnabled: true,
      rule,
      applicantProvidedEmail: Boolean(candidate.emailNormalized),
      applicantProvidedSsn: Boolean(candidate.ssnHashFull),
      matchedProfile: factsAbout(primary, candidate, firstNameFolded),
    });
    if (decision.outcome !== 'default') {
      // Nothing is stored: the application stops here with the seed's message.
      ctx.log.info({ formId, outcome: decision.outcome }, 'application stopped');
      throw new ProblemWith(409, decision.message ?? '', { outcome: decision.outcome, message: decision.message });
    }

    const applicationId = await insertApplication(ctx, trx, form, primary.id, 'pending_verification', submission, at);
    const verificationId = newId(now.getTime());
    const code = newVerificationCode();
    const state = issueCode(ctx.secrets.tokenKey, verificationId, code, now);
    await trx
      .insertInto('application_verifications')
      .values({
        id: verificationId,
        institution_id: institutionId,
        application_id: applicationId,
        code_hash: state.codeHash,
        issued_at: at,
        attempts: 0,
        resends: 0,
        status: 'pending',
        created_at: at,
        verified_at: null,
      })
      .execute();
    // The code goes to the address on the existing profile, never to one the applicant typed.
    await enqueueMail(ctx, trx, {
      institutionId,
      contactId: primary.id,
      category: 'transactional',
      template: 'application.verification_code',
      to: primary.email!,
      message: renderTemplate(verificationEmail(code), {}),
    });
    await recordAudit(ctx, trx, {
      institutionId,
      actor: caller.actor,
      action: 'application.verification_sent',
      target: { type: 'application', id: applicationId },
      subjectId: primary.id,
      meta: { formId: form.id, contactId: primary.id, verificationId, reason: primary.reason },
    });
    return {
      status: 'verification_required',
      outcome: 'default',
      applicationId,
      verificationId,
      message: decision.message,
      codeExpiresAt: new Date(now.getTime() + CODE_TTL_MS).toISOString(),
      resendAvailableAt: new Date(now.getTime() + RESEND_MIN_INTERVAL_MS).toISOString(),
    };
  });
}
