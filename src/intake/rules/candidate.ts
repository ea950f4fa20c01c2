import type { CountryCode } from 'libphonenumber-js/max';
import type { Candidate } from './match.ts';
import { foldLastName, givenValue, isFieldError, normalizeEmail, normalizeMobile, parseSsn, ssnHashes, type FieldError } from './normalize.ts';

/** What an application form or an import row gives; blank means not given. */
export interface ApplicantInput {
  email?: string | null;
  mobilePhone?: string | null;
  lastName?: string | null;
  ssn?: string | null;
}

/**
 * The applicant in the form matching compares, plus one error per invalid field (all of them, so
 * the form shows every problem at once). The SSN leaves this function only as hashes.
 */
export function candidateFromInput(
  input: ApplicantInput,
  opts: { defaultRegion: CountryCode; piiHashKey: Buffer },
): { candidate: Candidate; errors: FieldError[] } {
  const candidate: Candidate = {};
  const errors: FieldError[] = [];
  const given = {
    email: givenValue(input.email),
    mobilePhone: givenValue(input.mobilePhone),
    lastName: givenValue(input.lastName),
    ssn: givenValue(input.ssn),
  };
  if (given.email !== null) {
    const email = normalizeEmail(given.email);
    if (isFieldError(email)) errors.push(email);
    else candidate.emailNormalized = email.email;
  }
  if (given.mobilePhone !== null) {
    const mobile = normalizeMobile(given.mobilePhone, opts.defaultRegion);
    if (isFieldError(mobile)) errors.push(mobile);
    else candidate.mobileE164 = mobile.e164;
  }
  if (given.lastName !== null) {
    candidate.lastNameFolded = foldLastName(given.lastName);
  }
  if (given.ssn !== null) {
    const ssn = parseSsn(given.ssn);
    if (isFieldError(ssn)) errors.push(ssn);
    else {
      const hashes = ssnHashes(opts.piiHashKey, ssn.digits);
      candidate.ssnHashFull = hashes.full;
      candidate.ssnHashLast6 = hashes.last6;
      candidate.ssnHashLast4 = hashes.last4;
    }
  }
  return { candidate, errors };
}
