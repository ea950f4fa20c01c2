import { fieldsCheckedBy, type DuplicateCheckField, type DuplicateRule } from './duplicate-rule.ts';
import { CODE_TTL_MINUTES } from './verification-code.ts';

export * from './verification-code.ts';

/**
 * Application verification (seed 002), the pure decisions: which message an applicant sees when
 * their application matches an existing talent, and whether a form may turn verification on.
 *
 * Readings of the seed:
 * - "If Application Verification is NOT enabled, Application Verification will not be invoked":
 *   outcome 'none' whatever the duplicate check found.
 * - "If a Talent exists with the email address" → 'default': a code goes to the email address on
 *   the existing profile (never to an address the applicant typed), and nothing is overwritten
 *   or merged until it is entered.
 * - "If a Talent exists in the system, but no email address is provided/required" → 'full_stop';
 *   the same for the SSN ("but no SSN is provided/required") when the rule compares an SSN. We also
 *   stop when the existing profile has no email: there is nowhere to send a code, and accepting the
 *   application unverified is exactly what the toggle forbids.
 * - A spouse/family member who "shares a Talent's email address and last name" cannot overwrite the
 *   profile and is told to use a different address → 'family_warning'. A code cannot tell them from
 *   the owner (they may read the same mailbox), so the signal is the applicant's first name: same
 *   email and last name but a different first name is another member of the household, and the
 *   application stops before any code is sent. The owner (same first name too) gets 'default' and
 *   proves it with the code.
 * - Someone who "shares a name and email address" (e.g. a parent and child with the same name) looks
 *   exactly like the owner, so the 'default' message itself carries the data-loss warning and
 *   directs them to apply with their own address; it also tells the owner that entering the code
 *   updates their profile, so applying again never overwrites it "without a warning".
 */

export type VerificationOutcome = 'none' | 'default' | 'full_stop' | 'family_warning';

/** Shown on the public apply page; they never reveal the existing profile's details. */
export const VERIFICATION_MESSAGES = {
  default:
    'You already have a profile with us. To protect it, we have emailed a 6-digit code to the email address on that profile. ' +
    `Enter the code below within ${CODE_TTL_MINUTES} minutes to continue; your application will then update your existing profile. ` +
    'Please note: if you share this email address with someone else, such as a spouse or family member, continuing would replace ' +
    'their details with yours and their information could be lost. In that case, stop here and apply with your own email address.',
  full_stop:
    'Your application cannot continue. A profile already exists with the details you entered, and to protect it we can only ' +
    'update it after confirming a code sent by email, which is not possible with this application. If this is your profile, ' +
    'apply again with the email address (and Social Security number, if asked) you used before, or contact us and we will help you. ' +
    'If it is not your profile, please check the details you entered.',
  family_warning:
    'This email address already belongs to another person with a profile here, so this application cannot use it: continuing ' +
    'would replace their details with yours and their information could be lost. If you share this email address with a spouse ' +
    'or family member, please apply again with your own email address.',
} as const satisfies Record<Exclude<VerificationOutcome, 'none'>, string>;

/** What the duplicate check found about the matched profile, compared with the applicant. */
export interface MatchedProfileFacts {
  hasEmail: boolean;
  emailMatchesApplicant: boolean;
  lastNameMatchesApplicant: boolean;
  firstNameMatchesApplicant: boolean;
}

export interface VerificationOutcomeInput {
  formVerificationEnabled: boolean;
  rule: DuplicateRule;
  applicantProvidedEmail: boolean;
  applicantProvidedSsn: boolean;
  /** null when the duplicate check found no existing talent */
  matchedProfile: MatchedProfileFacts | null;
}

export type VerificationDecision =
  | { outcome: 'none'; message: null }
  | { outcome: Exclude<VerificationOutcome, 'none'>; message: string };

export function verificationOutcome(input: VerificationOutcomeInput): VerificationDecision {
  const { matchedProfile: match } = input;
  if (!input.formVerificationEnabled || match === null) return { outcome: 'none', message: null };
  const decide = (outcome: Exclude<VerificationOutcome, 'none'>): VerificationDecision => ({
    outcome,
    message: VERIFICATION_MESSAGES[outcome],
  });
  if (!input.applicantProvidedEmail) return decide('full_stop');
  if (input.rule.ssn !== 'none' && !input.applicantProvidedSsn) return decide('full_stop');
  if (!match.hasEmail) return decide('full_stop');
  if (match.emailMatchesApplicant && match.lastNameMatchesApplicant && !match.firstNameMatchesApplicant) {
    return decide('family_warning');
  }
  return decide('default');
}

const fieldLabels: Record<DuplicateCheckField, string> = {
  email: 'Email',
  mobilePhone: 'Mobile phone',
  lastName: 'Last name',
  ssn: 'SSN',
};

export interface FormVerificationError {
  code: 'verification_fields_not_required';
  /** duplicate-check fields the form must make required */
  fields: DuplicateCheckField[];
  message: string;
}

/**
 * Seed 002: every field the duplicate check compares must be required on a form with verification,
 * otherwise an applicant bypasses verification by leaving it empty. With "Email OR Mobile Phone"
 * both must be required: leaving either out hides the profiles found through it.
 */
export function validateFormVerification(form: {
  verificationEnabled: boolean;
  rule: DuplicateRule;
  requiredFields: readonly string[];
}): FormVerificationError | null {
  if (!form.verificationEnabled) return null;
  const missing = fieldsCheckedBy(form.rule).filter((field) => !form.requiredFields.includes(field));
  if (missing.length === 0) return null;
  const names = missing.map((field) => fieldLabels[field]).join(', ');
  const plural = missing.length > 1;
  return {
    code: 'verification_fields_not_required',
    fields: missing,
    message:
      `Application verification cannot be turned on for this form while ${names} ${plural ? 'are' : 'is'} optional. ` +
      `The duplicate check compares ${plural ? 'these fields' : 'this field'}, so an applicant could leave ` +
      `${plural ? 'them' : 'it'} empty and bypass verification. Make ${plural ? 'them' : 'it'} required on this form first.`,
  };
}
