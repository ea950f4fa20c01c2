import type { AppContext, Db } from '../context.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { existingDataKey } from '../audit/data-keys.ts';
import { recordActivity } from '../activity/events.ts';
import { notFound, Problem } from '../http/problem.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';
import { updateContactIn, type Caller } from '../contacts/contacts.ts';
import { systemViewer } from '../contacts/visibility.ts';
import {
  checkCode,
  MAX_RESENDS,
  newVerificationCode,
  RESEND_MIN_INTERVAL_MS,
  CODE_TTL_MS,
  resendCode,
  verificationEmail,
  type VerificationCodeState,
} from './rules/verification.ts';
import { applicantActor } from './apply.ts';
import { openSubmission } from './applications.ts';
import { fieldsToApply } from './fill-policy.ts';
import { ProblemWith } from './problems.ts';

/**
 * Entering and resending the emailed code of application verification. Every change to a code's
 * state is a conditional update on the state that was read (attempts = n, same code), so parallel
 * guesses each cost an attempt and a correct code can never slip in after the last wrong one.
 */

interface PendingVerification {
  id: string;
  institutionId: string;
  applicationId: string;
  contactId: string;
  formId: string;
  organizationId: string | null;
  mergePolicy: 'fill_empty' | 'overwrite';
  status: 'pending' | 'verified';
  submittedEnc: string | null;
  state: VerificationCodeState;
}

async function loadVerification(db: Db, formId: string, verificationId: string): Promise<PendingVerification> {
  const row = await db
    .selectFrom('application_verifications as v')
    .innerJoin('applications as a', 'a.id', 'v.application_id')
    .innerJoin('application_forms as f', 'f.id', 'a.form_id')
    .select([
      'v.id',
      'v.institution_id',
      'v.application_id',
      'v.code_hash',
      'v.issued_at',
      'v.attempts',
      'v.resends',
      'v.status',
      'a.contact_id',
      'a.form_id',
      'a.organization_id',
      'a.submitted_enc',
      'f.merge_policy',
    ])
    .where('v.id', '=', verificationId)
    .where('a.form_id', '=', formId)
    .executeTakeFirst();
  if (!row) throw notFound('Verification');
  return {
    id: row.id,
    institutionId: row.institution_id,
    applicationId: row.application_id,
    contactId: row.contact_id,
    formId: row.form_id!,
    organizationId: row.organization_id,
    mergePolicy: row.merge_policy,
    status: row.status,
    submittedEnc: row.submitted_enc,
    state: { verificationId: row.id, codeHash: row.code_hash, issuedAt: new Date(row.issued_at), attempts: row.attempts, resends: row.resends },
  };
}

function alreadyVerified(): Problem {
  return new ProblemWith(409, 'This application is already confirmed; there is nothing more to do.', { reason: 'already_verified' });
}

/** The conditional update: true when the state is still the one that was read. */
async function moveState(db: Db, v: PendingVerification, set: Record<string, unknown>): Promise<boolean> {
  const result = await db
    .updateTable('application_verifications')
    .set(set)
    .where('id', '=', v.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', v.state.attempts)
    .where('resends', '=', v.state.resends)
    .where('code_hash', '=', v.state.codeHash)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface VerifiedApplication {
  status: 'verified';
  applicationId: string;
  message: string;
}

const MAX_RACE_RETRIES = 20;

export async function verifyApplicationCode(ctx: AppContext, formId: string, verificationId: string, code: string): Promise<VerifiedApplication> {
  for (let round = 0; round < MAX_RACE_RETRIES; round++) {
    const v = await loadVerification(ctx.db, formId, verificationId);
    if (v.status === 'verified') throw alreadyVerified();
    const now = ctx.clock.now();
    const check = checkCode(v.state, code, now, ctx.secrets.tokenKey);

    if (check.result === 'ok') {
      const merged = await ctx.db.transaction().execute(async (trx) => {
        if (!(await moveState(trx, v, { status: 'verified', verified_at: now.toISOString() }))) return false;
        await mergeVerifiedApplication(ctx, trx, v, now.toISOString());
        return true;
      });
      if (!merged) continue; // another guess changed the state first: judge this one on the new state
      return { status: 'verified', applicationId: v.applicationId, message: check.message };
    }

    if ((check.result === 'wrong' || check.result === 'exhausted') && check.state.attempts > v.state.attempts) {
      if (!(await moveState(ctx.db, v, { attempts: check.state.attempts }))) continue;
    }
    switch (check.result) {
      case 'wrong':
        throw new ProblemWith(422, check.message, { reason: 'wrong_code', attemptsLeft: check.attemptsLeft }, [{ field: 'code', message: check.message }]);
      case 'exhausted':
        throw new ProblemWith(410, check.message, { reason: 'attempts_exhausted', attemptsLeft: 0, canResend: v.state.resends < MAX_RESENDS });
      case 'expired':
        throw new ProblemWith(410, check.message, { reason: 'code_expired', canResend: v.state.resends < MAX_RESENDS });
    }
  }
  throw new Problem(503, 'Too many simultaneous attempts on this code; wait a moment and try again.');
}

/** The correct code was entered: the application merges into the profile per the form's policy, audited. */
async function mergeVerifiedApplication(ctx: AppContext, trx: Db, v: PendingVerification, at: string): Promise<void> {
  const key = await existingDataKey(trx, ctx.secrets.masterKey, v.contactId);
  const submission = key && v.submittedEnc ? openSubmission(key, v.applicationId, v.submittedEnc) : null;
  if (!submission) throw new Problem(410, 'This application can no longer be completed: the profile it was about has been erased.');
  const current = await trx.selectFrom('contacts').selectAll().where('id', '=', v.contactId).executeTakeFirstOrThrow();
  const changes = fieldsToApply(
    current,
    null,
    {
      firstName: submission.firstName,
      lastName: submission.lastName,
      email: submission.email,
      // E.164 reads the same in any region, so a later change of the institution's region cannot refuse it.
      mobilePhone: submission.mobileE164 ?? undefined,
      ssnHashes: submission.ssnHashes,
    },
    v.mergePolicy,
  );
  const caller: Caller = {
    viewer: systemViewer,
    actor: { ...applicantActor(v.formId), label: `${applicantActor(v.formId).label}:verified` },
    organizationId: v.organizationId,
    viaToken: false,
  };
  // Audited as application.merge with before/after of every field that changes.
  await updateContactIn(ctx, trx, v.institutionId, caller, v.contactId, changes, {
    action: 'application.merge',
    auditMeta: { applicationId: v.applicationId, formId: v.formId, verificationId: v.id, policy: v.mergePolicy },
  });
  await trx.updateTable('applications').set({ status: 'merged', updated_at: at }).where('id', '=', v.applicationId).execute();
  await recordAudit(ctx, trx, {
    institutionId: v.institutionId,
    actor: caller.actor,
    action: 'application.verified',
    target: { type: 'application', id: v.applicationId },
    subjectId: v.contactId,
    meta: { formId: v.formId, verificationId: v.id, policy: v.mergePolicy, fieldsMerged: Object.keys(changes) },
  });
  await recordActivity(trx, {
    institutionId: v.institutionId,
    contactId: v.contactId,
    organizationId: v.organizationId,
    actorUserId: null,
    type: 'application.merged',
    occurredAt: at,
    data: { applicationId: v.applicationId, formId: v.formId, policy: v.mergePolicy },
  });
}

export interface ResentCode {
  status: 'code_sent';
  message: string;
  resendsLeft: number;
  codeExpiresAt: string;
  resendAvailableAt: string;
}

export async function resendApplicationCode(ctx: AppContext, formId: string, verificationId: string): Promise<ResentCode> {
  for (let round = 0; round < MAX_RACE_RETRIES; round++) {
    const v = await loadVerification(ctx.db, formId, verificationId);
    if (v.status === 'verified') throw alreadyVerified();
    const now = ctx.clock.now();
    const code = newVerificationCode();
    const decision = resendCode(ctx.secrets.tokenKey, v.state, code, now);
    if (!decision.ok) {
      if (decision.reason === 'too_soon') {
        throw new ProblemWith(429, decision.message, { reason: 'too_soon', retryAfterSeconds: Math.ceil(decision.retryAfterMs / 1000) });
      }
      throw new ProblemWith(429, decision.message, { reason: 'too_many_codes' });
    }
    const at = now.toISOString();
    const sent = await ctx.db.transaction().execute(async (trx) => {
      const moved = await moveState(trx, v, { code_hash: decision.state.codeHash, issued_at: at, attempts: 0, resends: decision.state.resends });
      if (!moved) return false;
      const contact = await trx.selectFrom('contacts').select(['email']).where('id', '=', v.contactId).executeTakeFirstOrThrow();
      if (!contact.email) throw new Problem(409, 'The profile no longer has an email address to send a code to. Please contact us and we will help you.');
      await enqueueMail(ctx, trx, {
        institutionId: v.institutionId,
        contactId: v.contactId,
        category: 'transactional',
        template: 'application.verification_code',
        to: contact.email,
        message: renderTemplate(verificationEmail(code), {}),
      });
      await trx.updateTable('applications').set({ updated_at: at }).where('id', '=', v.applicationId).execute();
      return true;
    });
    if (!sent) continue;
    return {
      status: 'code_sent',
      message: 'We have sent a new code to the email address on your profile. The previous code no longer works.',
      resendsLeft: MAX_RESENDS - decision.state.resends,
      codeExpiresAt: new Date(now.getTime() + CODE_TTL_MS).toISOString(),
      resendAvailableAt: new Date(now.getTime() + RESEND_MIN_INTERVAL_MS).toISOString(),
    };
  }
  throw new Problem(503, 'Too many simultaneous requests on this code; wait a moment and try again.');
}

/** Applications whose code was never entered keep what the applicant typed; after this long it is deleted. */
export const ABANDONED_AFTER_MS = 24 * 3_600_000;

export async function purgeAbandonedApplications(ctx: AppContext): Promise<number> {
  const cutoff = new Date(ctx.clock.now().getTime() - ABANDONED_AFTER_MS).toISOString();
  // Read first: the worker runs this every poll, and a delete would take SQLite's write lock each time.
  const due = await ctx.db.selectFrom('applications').select('id').where('status', '=', 'pending_verification').where('updated_at', '<', cutoff).limit(1).executeTakeFirst();
  if (!due) return 0;
  const result = await ctx.db.deleteFrom('applications').where('status', '=', 'pending_verification').where('updated_at', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}
