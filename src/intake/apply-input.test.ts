import { expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { intakeApi, tableCounts } from './intake-test-api.ts';

describeEachEngine('the public apply endpoint', (h) => {
  let tenant: SeededTenant;
  let api: ReturnType<typeof intakeApi>;

  it('sets up a tenant', async () => {
    tenant = await h.tenant();
    api = intakeApi(h, tenant);
  });

  it("creates a pending contact with source application, filed under the form's organization, SSN kept only as hashes", async () => {
    const form = await api.createForm({ organizationId: tenant.organizationIds[1] });
    const res = await api.apply(form.id, { firstName: ' Zoë ', lastName: 'Núñez', email: 'Zoe@Example.org', mobilePhone: '(212) 310-0100', ssn: '123456789' });
    expect(res.statusCode, res.body).toBe(201);
    const { applicationId } = res.json();
    const row = await h.ctx.db.selectFrom('applications').selectAll().where('id', '=', applicationId).executeTakeFirstOrThrow();
    const contact = await api.contact(row.contact_id);
    expect(contact).toMatchObject({
      firstName: 'Zoë',
      lastName: 'Núñez',
      email: 'Zoe@Example.org',
      mobileE164: '+12123100100',
      ssnOnFile: true,
      source: 'application',
      approvalStatus: 'pending',
      organizationId: tenant.organizationIds[1],
    });
    expect(await api.applications(contact.id)).toMatchObject([
      { id: applicationId, formId: form.id, status: 'created', submitted: { firstName: 'Zoë', email: 'Zoe@Example.org', ssnGiven: true } },
    ]);
    const stored = await h.ctx.db.selectFrom('contacts').select(['ssn_hash_full', 'ssn_hash_last6', 'ssn_hash_last4']).where('id', '=', contact.id).executeTakeFirstOrThrow();
    expect(Object.values(stored).every((v) => /^[0-9a-f]{64}$/.test(v!))).toBe(true);
    expect(row.submitted_enc).toMatch(/^v1\./);
  });

  it('names every bad or missing field and stores nothing', async () => {
    const form = await api.createForm({
      fields: [
        { field: 'firstName', required: true },
        { field: 'lastName', required: true },
        { field: 'email', required: true },
        { field: 'mobilePhone', required: false },
      ],
    });
    const before = await tableCounts(h);
    const res = await api.apply(form.id, { firstName: 'Ada', lastName: '  ', email: 'not-an-email', mobilePhone: '555', ssn: '123-45-6789' });
    expect(res.statusCode).toBe(422);
    const errors = res.json().errors as { field: string; message: string }[];
    expect(errors.map((e) => e.field).sort()).toEqual(['email', 'lastName', 'mobilePhone', 'ssn']);
    expect(errors.find((e) => e.field === 'ssn')!.message).toBe('is not a field of this form');
    expect(errors.find((e) => e.field === 'lastName')!.message).toBe('is required');
    expect(res.json().detail).toMatch(/Nothing was saved/);
    expect(JSON.stringify(res.json())).not.toContain('123-45-6789');

    const ssnForm = await api.createForm();
    const badSsn = await api.apply(ssnForm.id, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.org', ssn: '666-12-3456' });
    expect(badSsn.statusCode).toBe(422);
    expect(badSsn.json().errors).toEqual([{ field: 'ssn', message: 'This is not a valid Social Security number. Please check it and enter it again.' }]);
    const shape = await api.apply(ssnForm.id, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.org', middleName: 'B' });
    expect(shape.statusCode).toBe(400);
    expect(await tableCounts(h)).toEqual({ ...before, audit_log: before.audit_log + 1 }); // the second form's creation
  });

  it('answers 404 for an unknown form and 410 for a closed one', async () => {
    expect((await api.apply('019bc0e2-0000-7000-8000-000000000000', { firstName: 'A', lastName: 'B', email: 'a@example.org' })).statusCode).toBe(404);
    const closed = await api.createForm({ active: false });
    const res = await api.apply(closed.id, { firstName: 'A', lastName: 'B', email: 'a@example.org' });
    expect(res.statusCode).toBe(410);
    expect(res.json().detail).toMatch(/closed/);
    expect((await h.request(null, { method: 'GET', url: `/api/public/forms/${closed.id}` })).statusCode).toBe(410);
  });

  it('does not attach to a disabled contact, and does not bring back an expunged person on the suppression list', async () => {
    const form = await api.createForm();
    const disabled = await api.createContact({ firstName: 'Dora', lastName: 'Disabled', email: 'dora@example.org' });
    expect((await h.request(tenant.admin.token, { method: 'POST', url: `/api/contacts/${disabled.id}/disable`, payload: {} })).statusCode).toBe(200);
    const res = await api.apply(form.id, { firstName: 'Dora', lastName: 'Disabled', email: 'dora@example.org' });
    expect(res.statusCode, res.body).toBe(201);
    const row = await h.ctx.db.selectFrom('applications').select(['contact_id', 'status']).where('id', '=', res.json().applicationId).executeTakeFirstOrThrow();
    expect(row.status).toBe('created');
    expect(row.contact_id).not.toBe(disabled.id);

    const settings = await h.request(tenant.admin.token, { method: 'PATCH', url: '/api/lifecycle/settings', payload: { suppressionList: true } });
    expect(settings.statusCode, settings.body).toBe(200);
    const gone = await api.createContact({ firstName: 'Gus', lastName: 'Gone', email: 'gus@example.org', mobilePhone: '+12123100300' });
    const expunged = await h.request(tenant.admin.token, { method: 'POST', url: `/api/contacts/${gone.id}/expunge`, payload: { reason: 'contact_request' } });
    expect(expunged.statusCode, expunged.body).toBe(200);
    const before = await tableCounts(h, ['contacts', 'applications']);
    const back = await api.apply(form.id, { firstName: 'Gus', lastName: 'Gone', email: ' GUS@example.org ' });
    // The same answer as any application (nothing reveals that the person was erased), and nothing stored.
    expect(back.statusCode, back.body).toBe(201);
    expect(back.json()).toMatchObject({ status: 'received', message: 'Thank you, your application has been received.' });
    expect(await tableCounts(h, ['contacts', 'applications'])).toEqual(before);
  });

  it('limits how often one address may apply to one form', async () => {
    const form = await api.createForm();
    const statuses: number[] = [];
    for (let i = 0; i <= h.ctx.config.applyRateLimit; i++) {
      statuses.push((await api.apply(form.id, { firstName: 'Rate', lastName: `Limited ${i}`, email: 'not valid' })).statusCode);
    }
    expect(statuses.slice(0, -1).every((s) => s === 422)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});
