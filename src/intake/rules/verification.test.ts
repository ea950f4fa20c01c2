import { describe, it, expect } from 'vitest';
import type { DuplicateRule } from './duplicate-rule.ts';
import {
  VERIFICATION_MESSAGES,
  validateFormVerification,
  verificationOutcome,
  type MatchedProfileFacts,
  type VerificationOutcomeInput,
} from './verification.ts';

const emailRule: DuplicateRule = { identifier: 'email', lastName: true, ssn: 'none' };
const owner: MatchedProfileFacts = {
  hasEmail: true,
  emailMatchesApplicant: true,
  lastNameMatchesApplicant: true,
  firstNameMatchesApplicant: true,
};
const input = (o: Partial<VerificationOutcomeInput> = {}): VerificationOutcomeInput => ({
  formVerificationEnabled: true,
  rule: emailRule,
  applicantProvidedEmail: true,
  applicantProvidedSsn: false,
  matchedProfile: owner,
  ...o,
});

describe('verificationOutcome', () => {
  it('Two Key Points 1: verification disabled is never invoked, whatever matched', () => {
    expect(verificationOutcome(input({ formVerificationEnabled: false }))).toEqual({ outcome: 'none', message: null });
    expect(verificationOutcome(input({ formVerificationEnabled: false, applicantProvidedEmail: false }))).toEqual({
      outcome: 'none',
      message: null,
    });
  });

  it('no existing talent matched: nothing to verify', () => {
    expect(verificationOutcome(input({ matchedProfile: null })).outcome).toBe('none');
  });

  it('a talent exists with the email address: the default message, code to the existing address', () => {
    expect(verificationOutcome(input())).toEqual({ outcome: 'default', message: VERIFICATION_MESSAGES.default });
  });

  it('matched through the mobile phone with another email: still a code to the address on the profile', () => {
    const rule: DuplicateRule = { identifier: 'email_or_mobile', lastName: false, ssn: 'none' };
    const match = { ...owner, emailMatchesApplicant: false, lastNameMatchesApplicant: false, firstNameMatchesApplicant: false };
    expect(verificationOutcome(input({ rule, matchedProfile: match })).outcome).toBe('default');
  });

  it('a talent exists but no email address was provided/required: the "Full Stop" message', () => {
    const rule: DuplicateRule = { identifier: 'mobile', lastName: false, ssn: 'none' };
    expect(verificationOutcome(input({ rule, applicantProvidedEmail: false }))).toEqual({
      outcome: 'full_stop',
      message: VERIFICATION_MESSAGES.full_stop,
    });
  });

  it('a talent exists with the SSN: default; exists but no SSN provided/required: "Full Stop"', () => {
    const rule: DuplicateRule = { identifier: 'email', lastName: false, ssn: 'full' };
    expect(verificationOutcome(input({ rule, applicantProvidedSsn: true })).outcome).toBe('default');
    expect(verificationOutcome(input({ rule, applicantProvidedSsn: false })).outcome).toBe('full_stop');
    expect(verificationOutcome(input({ rule: { ...rule, ssn: 'last4' }, applicantProvidedSsn: false })).outcome).toBe('full_stop');
  });

  it('the matched profile has no email: nowhere to send a code, so "Full Stop"', () => {
    const match = { ...owner, hasEmail: false, emailMatchesApplicant: false };
    expect(verificationOutcome(input({ matchedProfile: match })).outcome).toBe('full_stop');
  });

  it('a spouse/family member sharing email and last name (another first name): told to use their own address', () => {
    const spouse = { ...owner, firstNameMatchesApplicant: false };
    expect(verificationOutcome(input({ matchedProfile: spouse }))).toEqual({
      outcome: 'family_warning',
      message: VERIFICATION_MESSAGES.family_warning,
    });
  });

  it('the owner, sharing first name too, proves it with the code; the default message still warns about data loss', () => {
    expect(verificationOutcome(input()).outcome).toBe('default');
    expect(VERIFICATION_MESSAGES.default).toMatch(/data|details.*lost/);
    expect(VERIFICATION_MESSAGES.default).toMatch(/apply with your own email address/);
    expect(VERIFICATION_MESSAGES.default).toMatch(/update your existing profile/);
  });

  it('same email, other last name and first name (e.g. after marriage): the owner may prove it with the code', () => {
    const renamed = { ...owner, lastNameMatchesApplicant: false, firstNameMatchesApplicant: false };
    expect(verificationOutcome(input({ rule: { ...emailRule, lastName: false }, matchedProfile: renamed })).outcome).toBe('default');
  });

  it('messages direct the applicant and reveal nothing of the existing profile', () => {
    expect(VERIFICATION_MESSAGES.family_warning).toMatch(/apply again with your own email address/);
    expect(VERIFICATION_MESSAGES.family_warning).toMatch(/lost/);
    expect(VERIFICATION_MESSAGES.full_stop).toMatch(/cannot continue/);
    expect(VERIFICATION_MESSAGES.default).toMatch(/15 minutes/);
    for (const message of Object.values(VERIFICATION_MESSAGES)) expect(message).not.toMatch(/@|\{|undefined/);
  });
});

describe('validateFormVerification', () => {
  it('accepts a form whose duplicate-check fields are all required, or with verification off', () => {
    const rule: DuplicateRule = { identifier: 'email_or_mobile', lastName: true, ssn: 'last4' };
    expect(validateFormVerification({ verificationEnabled: true, rule, requiredFields: ['firstName', 'email', 'mobilePhone', 'lastName', 'ssn'] })).toBeNull();
    expect(validateFormVerification({ verificationEnabled: false, rule, requiredFields: [] })).toBeNull();
  });

  it('refuses verification while a duplicate-check field is optional, naming it (seed: it could be bypassed)', () => {
    const error = validateFormVerification({ verificationEnabled: true, rule: emailRule, requiredFields: ['email'] });
    expect(error).toEqual({
      code: 'verification_fields_not_required',
      fields: ['lastName'],
      message:
        'Application verification cannot be turned on for this form while Last name is optional. The duplicate check compares ' +
        'this field, so an applicant could leave it empty and bypass verification. Make it required on this form first.',
    });
  });

  it('with Email OR Mobile Phone both must be required', () => {
    const rule: DuplicateRule = { identifier: 'email_or_mobile', lastName: false, ssn: 'full' };
    const error = validateFormVerification({ verificationEnabled: true, rule, requiredFields: ['email'] });
    expect(error?.fields).toEqual(['mobilePhone', 'ssn']);
    expect(error?.message).toMatch(/while Mobile phone, SSN are optional.*leave them empty and bypass verification/);
  });
});
