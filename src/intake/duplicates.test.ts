import { expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { findDuplicates } from './duplicates.ts';
import { candidateFromInput, type ApplicantInput } from './rules/candidate.ts';
import type { DuplicateRule } from './rules/duplicate-rule.ts';
import { ssnHashes } from './rules/normalize.ts';
import { newId } from '../ids.ts';
import { contactRow } from '../../test/support/contact-row.ts';

describeEachEngine('findDuplicates', (h) => {
  let tenant: SeededTenant;
  let other: SeededTenant;
  const ids: Record<string, string> = {};

  async function insert(institutionId: string, key: string, row: { first: string; last: string; email?: string; mobile?: string; ssn?: string }) {
    const at = h.clock.now().toISOString();
    h.clock.advance(1000);
    const hashes = row.ssn ? ssnHashes(h.ctx.secrets.piiHashKey, row.ssn) : null;
    const id = newId(Date.parse(at));
    await h.ctx.db
      .insertInto('contacts')
      .values(
        contactRow({
          id,
          institution_id: institutionId,
          first_name: row.first,
          last_name: row.last,
          first_name_folded: row.first.toLowerCase(),
          last_name_folded: row.last.toLowerCase(),
          email: row.email ?? null,
          email_normalized: row.email?.toLowerCase() ?? null,
          mobile_phone: row.mobile ?? null,
          mobile_e164: row.mobile ?? null,
          ssn_hash_full: hashes?.full ?? null,
          ssn_hash_last6: hashes?.last6 ?? null,
          ssn_hash_last4: hashes?.last4 ?? null,
          created_at: at,
          updated_at: at,
        }),
      )
      .execute();
    ids[key] = id;
  }

  const find = (rule: DuplicateRule, input: ApplicantInput, institutionId = tenant.institutionId, excludeIds?: string[]) => {
    const { candidate, errors } = candidateFromInput(input, { defaultRegion: 'US', piiHashKey: h.ctx.secrets.piiHashKey });
    expect(errors).toEqual([]);
    return findDuplicates(h.ctx.db, institutionId, rule, candidate, { excludeIds });
  };

  it('sets up contacts', async () => {
    tenant = await h.tenant();
    other = await h.tenant();
    await insert(tenant.institutionId, 'ada', { first: 'Ada', last: 'Lovelace', email: 'ada@example.org', mobile: '+12025550101', ssn: '123456789' });
    await insert(tenant.institutionId, 'adaTwin', { first: 'Augusta', last: 'Lovelace', email: 'ada@example.org' });
    await insert(tenant.institutionId, 'grace', { first: 'Grace', last: 'Hopper', mobile: '+12025550102' });
    await insert(other.institutionId, 'foreign', { first: 'Ada', last: 'Lovelace', email: 'ada@example.org', mobile: '+12025550101' });
  });

  it('finds by email, oldest first, within the institution only', async () => {
    const found = await find({ identifier: 'email', lastName: false, ssn: 'none' }, { email: ' ADA@example.org ' });
    expect(found.map((m) => m.id)).toEqual([ids.ada, ids.adaTwin]);
    expect(found[0]).toMatchObject({ firstName: 'Ada', email: 'ada@example.org', hasSsn: true, reason: 'email matches' });
    expect(found[1].hasSsn).toBe(false);
    expect(JSON.stringify(found)).not.toMatch(/ssn_hash|[0-9a-f]{64}/);
  });

  it('finds by mobile (national number read in the region) and by either identifier once', async () => {
    expect((await find({ identifier: 'mobile', lastName: false, ssn: 'none' }, { mobilePhone: '(202) 555-0102' })).map((m) => m.id)).toEqual([ids.grace]);
    const either = await find({ identifier: 'email_or_mobile', lastName: false, ssn: 'none' }, { email: 'ada@example.org', mobilePhone: '+1 202 555 0101' });
    expect(either.map((m) => m.id)).toEqual([ids.ada, ids.adaTwin]);
    expect(either[0].reason).toBe('email and mobile phone matches'.replace('matches', 'match'));
  });

  it('narrows by last name and SSN; a full SSN finds the profile on its own', async () => {
    expect((await find({ identifier: 'email', lastName: true, ssn: 'none' }, { email: 'ada@example.org', lastName: 'Byron' }))).toEqual([]);
    const bySsn = await find({ identifier: 'email', lastName: true, ssn: 'full' }, { email: 'other@example.org', lastName: 'Other', ssn: '123-45-6789' });
    expect(bySsn.map((m) => m.id)).toEqual([ids.ada]);
    const differentSsn = await find({ identifier: 'email', lastName: false, ssn: 'full' }, { email: 'ada@example.org', ssn: '234-56-4321' });
    expect(differentSsn.map((m) => m.id)).toEqual([ids.adaTwin]);
    const last4 = await find({ identifier: 'email', lastName: false, ssn: 'last4' }, { email: 'ada@example.org', ssn: '111-11-6789' });
    expect(last4.map((m) => m.id)).toEqual([ids.ada, ids.adaTwin]);
    const last4Wrong = await find({ identifier: 'email', lastName: false, ssn: 'last4' }, { email: 'ada@example.org', ssn: '111-11-1111' });
    expect(last4Wrong.map((m) => m.id)).toEqual([ids.adaTwin]);
  });

  it('leaves out disabled (soft-deleted) contacts unless asked', async () => {
    await h.ctx.db.insertInto('disabled_contacts').values({ contact_id: ids.adaTwin, institution_id: tenant.institutionId, disabled_at: h.clock.now().toISOString(), disabled_by: null, via: 'staff' }).execute();
    try {
      expect((await find({ identifier: 'email', lastName: false, ssn: 'none' }, { email: 'ada@example.org' })).map((m) => m.id)).toEqual([ids.ada]);
      const { candidate } = candidateFromInput({ email: 'ada@example.org' }, { defaultRegion: 'US', piiHashKey: h.ctx.secrets.piiHashKey });
      const all = await findDuplicates(h.ctx.db, tenant.institutionId, { identifier: 'email', lastName: false, ssn: 'none' }, candidate, { includeDisabled: true });
      expect(all.map((m) => m.id)).toEqual([ids.ada, ids.adaTwin]);
    } finally {
      await h.ctx.db.deleteFrom('disabled_contacts').where('contact_id', '=', ids.adaTwin).execute();
    }
  });

  it('looks nothing up when the applicant gives none of the identifiers, and honours excludeIds', async () => {
    expect(await find({ identifier: 'email', lastName: true, ssn: 'last6' }, { lastName: 'Lovelace', ssn: '123456789' })).toEqual([]);
    expect((await find({ identifier: 'email', lastName: false, ssn: 'none' }, { email: 'ada@example.org' }, tenant.institutionId, [ids.ada])).map((m) => m.id)).toEqual([ids.adaTwin]);
    expect((await find({ identifier: 'email', lastName: false, ssn: 'none' }, { email: 'ada@example.org' }, other.institutionId)).map((m) => m.id)).toEqual([ids.foreign]);
  });
});
