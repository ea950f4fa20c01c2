import { expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { intakeApi } from './intake-test-api.ts';

const fields = (required: Record<string, boolean>) =>
  Object.entries({ firstName: true, lastName: true, ...required }).map(([field, req]) => ({ field, required: req }));

describeEachEngine('intake settings and application forms', (h) => {
  let tenant: SeededTenant;
  let api: ReturnType<typeof intakeApi>;

  it('sets up a tenant', async () => {
    tenant = await h.tenant();
    api = intakeApi(h, tenant);
  });

  it('starts with the default rule (email only) and region US, and changes them', async () => {
    const res = await h.request(tenant.admin.token, { method: 'GET', url: '/api/intake/settings' });
    expect(res.json()).toEqual({
      duplicateRule: { identifier: 'email', lastName: false, ssn: 'none' },
      duplicateRuleDescription: 'Email Only',
      defaultRegion: 'US',
    });
    const set = await api.setRule({ identifier: 'email_or_mobile', lastName: true, ssn: 'full' }, 'fr');
    expect(set).toEqual({
      duplicateRule: { identifier: 'email_or_mobile', lastName: true, ssn: 'full' },
      duplicateRuleDescription: 'BOTH (Email OR Mobile Phone) + Last Name + SSN',
      defaultRegion: 'FR',
    });
    const [entry] = await api.audit('action=intake.settings');
    expect(entry.after).toMatchObject({ defaultRegion: 'FR' });
    await api.setRule({ identifier: 'email', lastName: false, ssn: 'none' });
  });

  it('refuses bad settings by field, and people without duplicates.manage', async () => {
    const bad = await h.request(tenant.admin.token, {
      method: 'PUT',
      url: '/api/intake/settings',
      payload: { duplicateRule: { identifier: 'phone', lastName: 'yes', ssn: 'last5' }, defaultRegion: 'XX' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['defaultRegion', 'duplicateRule.identifier', 'duplicateRule.lastName', 'duplicateRule.ssn']);
    const staff = await h.user(tenant, 'staff');
    const put = await h.request(staff.token, { method: 'PUT', url: '/api/intake/settings', payload: { duplicateRule: { identifier: 'email', lastName: false, ssn: 'none' }, defaultRegion: 'US' } });
    expect(put.statusCode).toBe(403);
    // Staff read the rule (manual creation applies it) but cannot configure forms.
    expect((await h.request(staff.token, { method: 'GET', url: '/api/intake/settings' })).statusCode).toBe(200);
    expect((await h.request(staff.token, { method: 'GET', url: '/api/forms' })).statusCode).toBe(403);
  });

  it('creates, reads, lists and replaces forms, with the effective rule in the seed’s words', async () => {
    const form = await api.createForm({ name: 'Engineering jobs', jobBoard: 'Indeed', organizationId: tenant.organizationIds[1] });
    expect(form).toMatchObject({
      name: 'Engineering jobs',
      jobBoard: 'Indeed',
      organizationId: tenant.organizationIds[1],
      duplicateRule: null,
      effectiveRule: { identifier: 'email', lastName: false, ssn: 'none' },
      effectiveRuleDescription: 'Email Only',
      verificationEnabled: false,
      mergePolicy: 'fill_empty',
      active: true,
    });
    const put = await h.request(tenant.admin.token, {
      method: 'PUT',
      url: `/api/forms/${form.id}`,
      payload: { name: 'Engineering', organizationId: tenant.organizationIds[0], fields: fields({ email: true }), duplicateRule: { identifier: 'email', lastName: true, ssn: 'last4' }, mergePolicy: 'overwrite' },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ name: 'Engineering', jobBoard: null, effectiveRuleDescription: 'Email Only + Last Name + Last 4 of SSN', mergePolicy: 'overwrite' });
    const got = await h.request(tenant.admin.token, { method: 'GET', url: `/api/forms/${form.id}` });
    expect(got.json()).toEqual(put.json());
    const list = await h.request(tenant.admin.token, { method: 'GET', url: `/api/forms?organizationId=${tenant.organizationIds[0]}` });
    expect(list.json().items.map((f: { id: string }) => f.id)).toContain(form.id);
    const publicView = await h.request(null, { method: 'GET', url: `/api/public/forms/${form.id}` });
    expect(publicView.json()).toEqual({ id: form.id, name: 'Engineering', jobBoard: null, fields: fields({ email: true }), verificationEnabled: false });
  });

  it('refuses verification while a field the rule compares is optional or missing, with the seed’s reason', async () => {
    const res = await h.request(tenant.admin.token, {
      method: 'POST',
      url: '/api/forms',
      payload: {
        name: 'Bypassable',
        organizationId: tenant.organizationIds[0],
        fields: fields({ email: true, mobilePhone: false }),
        duplicateRule: { identifier: 'email_or_mobile', lastName: true, ssn: 'full' },
        verificationEnabled: true,
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      code: 'verification_fields_not_required',
      fieldsToRequire: ['mobilePhone', 'ssn'],
      errors: [{ field: 'verificationEnabled' }],
    });
    expect(res.json().detail).toMatch(/Mobile phone, SSN are optional.*bypass verification/);

    const ok = await api.createForm({
      name: 'Safe',
      fields: fields({ email: true, mobilePhone: true, ssn: true }),
      duplicateRule: { identifier: 'email_or_mobile', lastName: true, ssn: 'full' },
      verificationEnabled: true,
    });
    expect(ok).toMatchObject({ verificationEnabled: true });
    // Making a compared field optional later is refused just the same.
    const weakened = await h.request(tenant.admin.token, {
      method: 'PUT',
      url: `/api/forms/${ok.id}`,
      payload: { name: 'Safe', organizationId: tenant.organizationIds[0], fields: fields({ email: true, mobilePhone: true, ssn: false }), duplicateRule: { identifier: 'email_or_mobile', lastName: true, ssn: 'full' }, verificationEnabled: true },
    });
    expect(weakened.statusCode).toBe(422);
    expect(weakened.json().fieldsToRequire).toEqual(['ssn']);
  });

  it("refuses an institution rule that would open a bypass on a form following it", async () => {
    const t = await h.tenant();
    const a = intakeApi(h, t);
    const form = await a.createForm({ name: 'Follows the institution', fields: fields({ email: true, mobilePhone: false }), verificationEnabled: true });
    const res = await h.request(t.admin.token, {
      method: 'PUT',
      url: '/api/intake/settings',
      payload: { duplicateRule: { identifier: 'email_or_mobile', lastName: false, ssn: 'none' }, defaultRegion: 'US' },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().forms).toEqual([{ id: form.id, name: 'Follows the institution', fieldsToRequire: ['mobilePhone'] }]);
    const unchanged = await h.request(t.admin.token, { method: 'GET', url: '/api/intake/settings' });
    expect(unchanged.json().duplicateRule.identifier).toBe('email');
  });

  it('names bad form fields, and treats other tenants’ forms and organizations as missing', async () => {
    const bad = await h.request(tenant.admin.token, {
      method: 'POST',
      url: '/api/forms',
      payload: { name: '', organizationId: tenant.organizationIds[0], fields: [{ field: 'firstName', required: false }, { field: 'email', required: true }, { field: 'email', required: false }], mergePolicy: 'merge' },
    });
    expect(bad.statusCode).toBe(400);
    const named = bad.json().errors.map((e: { field: string; message: string }) => `${e.field}: ${e.message}`).join('\n');
    expect(named).toMatch(/^name:/m);
    expect(named).toMatch(/^mergePolicy:/m);
    const badFields = await h.request(tenant.admin.token, {
      method: 'POST',
      url: '/api/forms',
      payload: { name: 'X', organizationId: tenant.organizationIds[0], fields: [{ field: 'firstName', required: false }, { field: 'email', required: true }, { field: 'email', required: false }] },
    });
    expect(badFields.statusCode).toBe(400);
    expect(badFields.json().errors).toEqual([
      { field: 'fields.2.field', message: 'lists email twice' },
      { field: 'fields', message: 'must include firstName as required: every contact has a name' },
      { field: 'fields', message: 'must include lastName as required: every contact has a name' },
    ]);

    const other = await h.tenant();
    const theirs = await intakeApi(h, other).createForm({ name: 'Theirs' });
    expect((await h.request(tenant.admin.token, { method: 'GET', url: `/api/forms/${theirs.id}` })).statusCode).toBe(404);
    const put = await h.request(tenant.admin.token, { method: 'PUT', url: `/api/forms/${theirs.id}`, payload: { name: 'Mine', organizationId: tenant.organizationIds[0], fields: fields({}) } });
    expect(put.statusCode).toBe(404);
    const foreignOrg = await h.request(tenant.admin.token, { method: 'POST', url: '/api/forms', payload: { name: 'X', organizationId: other.organizationIds[0], fields: fields({}) } });
    expect(foreignOrg.statusCode).toBe(422);
    expect(foreignOrg.json().errors).toEqual([{ field: 'organizationId', message: 'is not an organization of this institution' }]);
    expect((await intakeApi(h, other).apply(theirs.id, { firstName: 'A', lastName: 'B', email: 'a@example.org' })).statusCode).toBe(201);
  });
});
