import { describe, it, expect } from 'vitest';
import { candidateFromInput } from './candidate.ts';
import { ssnHashes } from './normalize.ts';

const opts = { defaultRegion: 'FR' as const, piiHashKey: Buffer.alloc(32, 9) };

describe('candidateFromInput', () => {
  it('normalises every given field; the SSN leaves only as hashes', () => {
    const { candidate, errors } = candidateFromInput(
      { email: ' Ana@Example.org', mobilePhone: '06 12 34 56 78', lastName: ' García ', ssn: '123-45-6789' },
      opts,
    );
    const hashes = ssnHashes(opts.piiHashKey, '123456789');
    expect(errors).toEqual([]);
    expect(candidate).toEqual({
      emailNormalized: 'ana@example.org',
      mobileE164: '+33612345678',
      lastNameFolded: 'garcia',
      ssnHashFull: hashes.full,
      ssnHashLast6: hashes.last6,
      ssnHashLast4: hashes.last4,
    });
    expect(JSON.stringify(candidate)).not.toMatch(/6789/);
  });

  it('treats blank fields as not given and reports every invalid field', () => {
    expect(candidateFromInput({ email: '  ', mobilePhone: '', ssn: null }, opts)).toEqual({ candidate: {}, errors: [] });
    const { candidate, errors } = candidateFromInput({ email: 'ana', mobilePhone: '12', lastName: 'Garcia', ssn: '666-12-3456' }, opts);
    expect(candidate).toEqual({ lastNameFolded: 'garcia' });
    expect(errors.map((e) => e.field)).toEqual(['email', 'mobilePhone', 'ssn']);
  });
});
