import { expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { signIn } from '../../test/support/sessions.ts';
import { intakeApi, tableCounts } from './intake-test-api.ts';

describeEachEngine('manual creation with the duplicate check', (h) => {
  let tenant: SeededTenant;
  let api: ReturnType<typeof intakeApi>;
  let staffToken: string;
  let staffEmail: string;

  it('sets up a tenant', async () => {
    tenant = await h.tenant();
    api = intakeApi(h, tenant);
    const staff = await h.user(tenant, 'staff');
    staffToken = staff.token;
    staffEmail = staff.email;
  });

  const post = (payload: Record<string, unknown>, token = staffToken) => h.request(token, { method: 'POST', url: '/api/contacts', payload });

  it('answers 409 with the candidates and creates nothing, unless told to create anyway', async () => {
    // Staff in the console (a session): source manual.
    const session = await signIn(h, staffEmail);
    const first = await session.request({ method: 'POST', url: '/api/contacts', payload: { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.org' } });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().source).toBe('manual');
    const before = await tableCounts(h);
    const dup = await post({ firstName: 'G.', lastName: 'Hopper', email: ' GRACE@example.org' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({
      ruleDescription: 'Email Only',
      duplicates: [{ id: first.json().id, visible: true, reason: 'email matches', firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.org', source: 'manual' }],
    });
    expect(dup.json().detail).toMatch(/Nothing was created.*create_anyway.*mergeInto/);
    expect(await tableCounts(h)).toEqual(before);

    const anyway = await post({ firstName: 'G.', lastName: 'Hopper', email: ' GRACE@example.org', onDuplicate: 'create_anyway' });
    expect(anyway.statusCode, anyway.body).toBe(201);
    const [entry] = await api.audit(`action=contact.create_despite_duplicates&targetId=${anyway.json().id}`);
    expect(entry.meta).toMatchObject({ duplicateIds: [first.json().id] });
  });

  it('merges into the chosen contact: fill_empty keeps what is there, overwrite replaces', async () => {
    const base = await api.createContact({ firstName: 'Alan', lastName: 'Turing', email: 'alan@example.org' });
    const fill = await post({ firstName: 'Alan M.', lastName: 'Turing', email: 'alan@example.org', mobilePhone: '+44 7911 123456', onDuplicate: { mergeInto: base.id } });
    expect(fill.statusCode, fill.body).toBe(200);
    expect(fill.json()).toMatchObject({ id: base.id, firstName: 'Alan', mobileE164: '+447911123456' });
    const over = await post({ firstName: 'Alan M.', lastName: 'Turing', email: 'alan@example.org', onDuplicate: { mergeInto: base.id, policy: 'overwrite' } });
    expect(over.statusCode).toBe(200);
    expect(over.json()).toMatchObject({ id: base.id, firstName: 'Alan M.', mobileE164: '+447911123456' });
    const [entry] = await api.audit(`action=contact.merge_new&targetId=${base.id}`);
    expect(entry).toMatchObject({ before: { firstName: 'Alan' }, after: { firstName: 'Alan M.' } });

    const other = await h.tenant();
    const foreign = await intakeApi(h, other).createContact({ firstName: 'X', lastName: 'Y' });
    const res = await post({ firstName: 'Alan', lastName: 'Turing', onDuplicate: { mergeInto: foreign.id } });
    expect(res.statusCode).toBe(404);
  });

  it("shows a candidate the caller may not see only by id, and follows the institution's rule", async () => {
    const hidden = await api.createContact({ firstName: 'Hedy', lastName: 'Lamarr', mobilePhone: '+12123100200', visibility: 'owner_only', ownerUserId: tenant.admin.id });
    await api.setRule({ identifier: 'mobile', lastName: true, ssn: 'none' });
    try {
      const dup = await post({ firstName: 'H', lastName: 'LAMARR', mobilePhone: '212 310 0200' });
      expect(dup.statusCode).toBe(409);
      expect(dup.json().duplicates).toEqual([{ id: hidden.id, visible: false, reason: 'mobile phone matches and last name matches' }]);
      expect((await post({ firstName: 'H', lastName: 'Markey', mobilePhone: '212 310 0200' })).statusCode).toBe(201);
    } finally {
      await api.setRule({ identifier: 'email', lastName: false, ssn: 'none' });
    }
  });

  it('reads phones in the institution region, refuses one it cannot parse, and keeps SSNs only as hashes', async () => {
    await api.setRule({ identifier: 'email', lastName: false, ssn: 'none' }, 'GB');
    try {
      const uk = await post({ firstName: 'Ada', lastName: 'King', mobilePhone: '07911 123457' });
      expect(uk.statusCode, uk.body).toBe(201);
      expect(uk.json().mobileE164).toBe('+447911123457');
      const bad = await post({ firstName: 'Ada', lastName: 'King', mobilePhone: '12345', ssn: '987-65-43' });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(['mobilePhone', 'ssn']);
      expect(bad.body).not.toContain('987-65-43');
    } finally {
      await api.setRule({ identifier: 'email', lastName: false, ssn: 'none' }, 'US');
    }
    const withSsn = await post({ firstName: 'Kay', lastName: 'Antonelli', ssn: '123-45-6789' });
    expect(withSsn.statusCode).toBe(201);
    expect(withSsn.json().ssnOnFile).toBe(true);
    expect(withSsn.body).not.toMatch(/6789/);
    const id = withSsn.json().id;
    const cleared = await h.request(staffToken, { method: 'PATCH', url: `/api/contacts/${id}`, payload: { ssn: null } });
    expect(cleared.json().ssnOnFile).toBe(false);
    const [entry] = await api.audit(`action=contact.update&targetId=${id}`);
    expect(entry).toMatchObject({ before: { ssn: '[on file]' }, after: { ssn: null } });
    const row = await h.ctx.db.selectFrom('contacts').select(['ssn_hash_full', 'ssn_hash_last6', 'ssn_hash_last4']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ ssn_hash_full: null, ssn_hash_last6: null, ssn_hash_last4: null });
  });
});
