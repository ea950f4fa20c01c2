import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';

describeEachEngine('contacts: create, read, update', (h) => {
  async function setup() {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'program', type: 'choice', options: ['Engineering', 'Law'] });
    await api.defineAttribute({ key: 'grad_year', type: 'number' });
    await api.defineAttribute({ key: 'do_not_email', type: 'boolean' });
    await api.defineAttribute({ key: 'graduated_on', type: 'date' });
    await api.defineAttribute({ key: 'nickname', type: 'text' });
    const acme = await api.createEmployer('Acme Corp');
    return { t, api, acme };
  }

  it('creates a contact with every kind of field and reads back its full profile', async () => {
    const { t, api, acme } = await setup();
    const created = await api.createContact({
      firstName: '  Éloïse ',
      lastName: 'D’Arcy',
      email: ' Eloise.Darcy@Example.ORG ',
      mobilePhone: '+41 79 123 45 67',
      employerId: acme.id,
      organizationId: t.organizationIds[1],
      ownerUserId: t.admin.id,
      visibility: 'staff_only',
      optInStatus: 'opted_in',
      attributes: { program: 'law', grad_year: '2019.0', do_not_email: false, graduated_on: '2019-06-30', nickname: ' Lou ' },
      authorizations: { newsletter: true, surveys: false },
    });
    expect(created).toMatchObject({
      firstName: 'Éloïse',
      lastName: 'D’Arcy',
      email: 'Eloise.Darcy@Example.ORG',
      mobilePhone: '+41 79 123 45 67',
      mobileE164: '+41791234567',
      employer: { id: acme.id, name: 'Acme Corp', since: h.clock.now().toISOString() },
      formerEmployers: [],
      organizationId: t.organizationIds[1],
      ownerUserId: t.admin.id,
      visibility: 'staff_only',
      approvalStatus: 'approved',
      source: 'api',
      optInStatus: 'opted_in',
      optInChangedAt: h.clock.now().toISOString(),
      attributes: { program: 'Law', grad_year: 2019, do_not_email: false, graduated_on: '2019-06-30', nickname: 'Lou' },
      authorizations: {
        newsletter: { granted: true, updatedAt: h.clock.now().toISOString() },
        surveys: { granted: false, updatedAt: h.clock.now().toISOString() },
      },
    });
    const read = await api.get(`/api/contacts/${created.id}`);
    expect(read).toEqual(created);

    const row = await h.ctx.db.selectFrom('contacts').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ first_name_folded: 'eloise', last_name_folded: 'darcy', email_normalized: 'eloise.darcy@example.org' });
    const values = await h.ctx.db.selectFrom('contact_attribute_values').select(['value_text', 'value_number']).where('contact_id', '=', created.id).execute();
    expect(values).toEqual(
      expect.arrayContaining([
        { value_text: 'Law', value_number: null },
        { value_text: '2019', value_number: 2019 },
        { value_text: 'false', value_number: null },
        { value_text: '2019-06-30', value_number: 18077 },
        { value_text: 'Lou', value_number: null },
      ]),
    );
  });

  it('defaults: creator’s organization, visibility everyone, approved, unknown opt-in', async () => {
    const { t, api } = await setup();
    const staff = await h.user(t, 'staff', { organizationId: t.organizationIds[1] });
    const created = await contactsApi(h, staff.token).createContact({ firstName: 'Ada', lastName: 'Lovelace' });
    expect(created).toMatchObject({
      organizationId: t.organizationIds[1],
      visibility: 'everyone',
      approvalStatus: 'approved',
      source: 'api',
      optInStatus: 'unknown',
      optInChangedAt: null,
      email: null,
      employer: null,
      attributes: {},
      authorizations: {},
    });
    const applicant = await api.createContact({ firstName: 'Grace', lastName: 'Hopper', source: 'application' });
    expect(applicant).toMatchObject({ source: 'application', approvalStatus: 'pending' });
  });

  it('updates each kind of field, removes attribute values with null and leaves the rest alone', async () => {
    const { t, api, acme } = await setup();
    const created = await api.createContact({
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.org',
      attributes: { program: 'Engineering', grad_year: 2019, nickname: 'A' },
    });
    h.clock.advance(60_000);
    const updated = await api.patchContact(created.id, {
      lastName: 'Byron',
      email: 'ADA.BYRON@example.org',
      mobilePhone: '(202) 555-0123',
      employerId: acme.id,
      visibility: 'owner_only',
      ownerUserId: t.admin.id,
      approvalStatus: 'pending',
      attributes: { program: 'Law', grad_year: null, do_not_email: true },
    });
    expect(updated).toMatchObject({
      firstName: 'Ada',
      lastName: 'Byron',
      email: 'ADA.BYRON@example.org',
      mobilePhone: '(202) 555-0123',
      mobileE164: '+12025550123',
      employer: { id: acme.id },
      visibility: 'owner_only',
      ownerUserId: t.admin.id,
      approvalStatus: 'pending',
      attributes: { program: 'Law', do_not_email: true, nickname: 'A' },
      createdAt: created.createdAt,
      updatedAt: h.clock.now().toISOString(),
    });
    expect(updated.attributes).not.toHaveProperty('grad_year');
    expect(await api.get(`/api/contacts/${created.id}`)).toEqual(updated);
    const row = await h.ctx.db.selectFrom('contacts').select(['email_normalized', 'last_name_folded']).where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ email_normalized: 'ada.byron@example.org', last_name_folded: 'byron' });

    const cleared = await api.patchContact(created.id, { email: null, mobilePhone: null, employerId: null });
    expect(cleared).toMatchObject({ email: null, mobilePhone: null, employer: null, formerEmployers: [{ id: acme.id, name: 'Acme Corp' }] });
  });

  it('refuses invalid fields with 422 naming each one, and changes nothing', async () => {
    const { t, api } = await setup();
    const other = await h.tenant();
    const otherEmployer = await contactsApi(h, other.admin.token).createEmployer('Elsewhere');
    const tables = ['contacts', 'contact_attribute_values', 'contact_authorizations', 'contact_employments', 'activity_events', 'audit_log'];
    const before = await Promise.all(tables.map((table) => h.count(table)));

    const bad = await api.call('POST', '/api/contacts', {
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'not-an-email',
      employerId: otherEmployer.id,
      organizationId: other.organizationIds[0],
      ownerUserId: other.admin.id,
      attributes: { program: 'Medicine', grad_year: 'soon', do_not_email: 'maybe', graduated_on: '2019-02-30', unknown_key: 1 },
      authorizations: { newsletter: true },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    const fields = (bad.json().errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(
      [
        'email',
        'employerId',
        'organizationId',
        'ownerUserId',
        'attributes.program',
        'attributes.grad_year',
        'attributes.do_not_email',
        'attributes.graduated_on',
        'attributes.unknown_key',
      ].sort(),
    );
    expect(bad.json().errors).toContainEqual({ field: 'attributes.program', message: 'must be one of: Engineering, Law' });
    expect(await Promise.all(tables.map((table) => h.count(table)))).toEqual(before);

    const created = await api.createContact({ firstName: 'Ada', lastName: 'Lovelace', attributes: { grad_year: 2020 } });
    const counts = await Promise.all(tables.map((table) => h.count(table)));
    const badPatch = await api.call('PATCH', `/api/contacts/${created.id}`, { lastName: 'Byron', attributes: { grad_year: 'x' } });
    expect(badPatch.statusCode).toBe(422);
    expect(badPatch.json().errors).toEqual([{ field: 'attributes.grad_year', message: 'must be a number' }]);
    expect(await Promise.all(tables.map((table) => h.count(table)))).toEqual(counts);
    expect(await api.get(`/api/contacts/${created.id}`)).toMatchObject({ lastName: 'Lovelace', attributes: { grad_year: 2020 } });

    const missing = await api.call('POST', '/api/contacts', { firstName: 'Ada' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors.map((e: { field: string }) => e.field)).toContain('lastName');
    const blank = await api.call('POST', '/api/contacts', { firstName: ' ', lastName: 'X' });
    expect(blank.statusCode).toBe(422);
    expect(blank.json().errors).toEqual([{ field: 'firstName', message: 'must not be empty' }]);
    const typo = await api.call('POST', '/api/contacts', { firstName: 'A', lastName: 'B', visiblity: 'everyone' });
    expect(typo.statusCode).toBe(400);
  });

  it('records consent with per-purpose timestamps and the opt-in change date', async () => {
    const { api } = await setup();
    const created = await api.createContact({ firstName: 'Ada', lastName: 'Lovelace', authorizations: { newsletter: true, surveys: true } });
    const t0 = h.clock.now().toISOString();
    h.clock.advanceDays(2);
    const t1 = h.clock.now().toISOString();
    const res = await api.call('PUT', `/api/contacts/${created.id}/consent`, { optInStatus: 'opted_out', authorizations: { newsletter: false, surveys: true, phone: true } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      optInStatus: 'opted_out',
      optInChangedAt: t1,
      authorizations: {
        newsletter: { granted: false, updatedAt: t1 },
        surveys: { granted: true, updatedAt: t0 },
        phone: { granted: true, updatedAt: t1 },
      },
    });
    const notConsent = await api.call('PUT', `/api/contacts/${created.id}/consent`, { lastName: 'X' });
    expect(notConsent.statusCode).toBe(400);

    const activity = await api.get(`/api/contacts/${created.id}/activity?types=consent.authorization_changed,consent.opt_in_changed`);
    expect(activity.items).toEqual([
      expect.objectContaining({ type: 'consent.authorization_changed', data: { changes: { newsletter: false, phone: true }, anyGranted: true } }),
      expect.objectContaining({ type: 'consent.opt_in_changed', data: { from: 'unknown', to: 'opted_out' } }),
    ]);
    await api.call('PUT', `/api/contacts/${created.id}/consent`, { authorizations: { surveys: false, phone: false } });
    const [last] = (await api.get(`/api/contacts/${created.id}/activity?types=consent.authorization_changed&limit=1`)).items;
    expect(last.data).toEqual({ changes: { surveys: false, phone: false }, anyGranted: false });
  });

  it('refuses a change based on a stale read (If-Match) and accepts a fresh one', async () => {
    const { api } = await setup();
    const created = await api.createContact({ firstName: 'Ada', lastName: 'Lovelace' });
    const read = await api.call('GET', `/api/contacts/${created.id}`);
    const etag = read.headers.etag as string;
    expect(etag).toBe(`"${created.updatedAt}"`);
    const first = await api.call('PATCH', `/api/contacts/${created.id}`, { lastName: 'Byron' }, { 'if-match': etag });
    expect(first.statusCode).toBe(200);
    // Same millisecond on the test clock: the version still moves forward.
    expect(first.headers.etag).not.toBe(etag);
    const stale = await api.call('PATCH', `/api/contacts/${created.id}`, { lastName: 'King' }, { 'if-match': etag });
    expect(stale.statusCode).toBe(412);
    expect((await api.get(`/api/contacts/${created.id}`)).lastName).toBe('Byron');
    const fresh = await api.call('PATCH', `/api/contacts/${created.id}`, { lastName: 'King' }, { 'if-match': first.json().updatedAt });
    expect(fresh.statusCode).toBe(200);
  });

  it('honours Idempotency-Key: a replay returns the same contact and creates only one', async () => {
    const { api } = await setup();
    const before = await h.count('contacts');
    const body = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.org' };
    const first = await api.call('POST', '/api/contacts', body, { 'idempotency-key': 'create-ada-1' });
    const replay = await api.call('POST', '/api/contacts', body, { 'idempotency-key': 'create-ada-1' });
    expect(first.statusCode).toBe(201);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    expect(await h.count('contacts')).toBe(before + 1);
    const reused = await api.call('POST', '/api/contacts', { ...body, firstName: 'Eve' }, { 'idempotency-key': 'create-ada-1' });
    expect(reused.statusCode).toBe(422);
    expect(await h.count('contacts')).toBe(before + 1);
  });

  it('records activity with changed field names only, and an unchanged PATCH records nothing', async () => {
    const { api, acme } = await setup();
    const created = await api.createContact({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.org', attributes: { program: 'Law' } });
    await api.patchContact(created.id, { email: 'ada@lovelace.org', firstName: 'Ada', employerId: acme.id, attributes: { program: 'Engineering' }, visibility: 'staff_only' });
    const countAfter = await h.count('activity_events');
    await api.patchContact(created.id, { email: 'ada@lovelace.org', attributes: { program: 'engineering' } });
    expect(await h.count('activity_events')).toBe(countAfter);

    const { items } = await api.get(`/api/contacts/${created.id}/activity`);
    expect(items.map((i: { type: string }) => i.type)).toEqual([
      'contact.criterion_changed',
      'contact.visibility_changed',
      'contact.employer_changed',
      'contact.updated',
      'contact.created',
    ]);
    expect(items[3].data).toEqual({ fields: ['email', 'employerId', 'visibility', 'attributes.program'] });
    expect(items[0].data).toEqual({ attributes: ['program'] });
    expect(items[2].data).toEqual({ fromEmployerId: null, toEmployerId: acme.id });
    expect(items[4].data).toMatchObject({ source: 'api', attributes: ['program'] });
    const raw = await h.ctx.db.selectFrom('activity_events').select('data').where('contact_id', '=', created.id).execute();
    for (const r of raw) {
      expect(r.data ?? '').not.toContain('lovelace');
      expect(r.data ?? '').not.toContain('Engineering');
    }

    const page1 = await api.get(`/api/contacts/${created.id}/activity?limit=2`);
    expect(page1.items).toHaveLength(2);
    const page2 = await api.get(`/api/contacts/${created.id}/activity?limit=2&before=${page1.nextCursor}`);
    const page3 = await api.get(`/api/contacts/${created.id}/activity?limit=2&before=${page2.nextCursor}`);
    expect([...page1.items, ...page2.items, ...page3.items].map((i: { seq: number }) => i.seq)).toEqual(items.map((i: { seq: number }) => i.seq));
    expect(page3.nextCursor).toBeNull();
  });

  it('audits with sealed personal data: changed fields only, the raw row never holds the email', async () => {
    const { t, api } = await setup();
    const created = await api.createContact({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada.secret@example.org', attributes: { nickname: 'Countess' } });
    await api.patchContact(created.id, { email: 'ada.other@example.org', attributes: { nickname: null } });
    const raw = await h.ctx.db.selectFrom('audit_log').selectAll().where('target_id', '=', created.id).execute();
    expect(raw).toHaveLength(2);
    for (const row of raw) {
      expect(row.subject_id).toBe(created.id);
      for (const value of [row.before_enc, row.after_enc, row.meta]) {
        expect(value ?? '').not.toContain('ada.secret');
        expect(value ?? '').not.toContain('ada.other');
        expect(value ?? '').not.toContain('Lovelace');
        expect(value ?? '').not.toContain('Countess');
      }
    }
    const entries = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: created.id, limit: 10 });
    expect(entries.map((e) => e.action)).toEqual(['contact.update', 'contact.create']);
    expect(entries[0].before).toEqual({ email: 'ada.secret@example.org', attributes: { nickname: 'Countess' } });
    expect(entries[0].after).toEqual({ email: 'ada.other@example.org', attributes: { nickname: null } });
    expect(entries[0].meta).toEqual({ fields: ['email', 'attributes.nickname'] });
    expect(entries[1].after).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada.secret@example.org' });
  });

  it('never writes a contact’s email or name to the logs', async () => {
    const { api } = await setup();
    const created = await api.createContact({ firstName: 'Zenobia', lastName: 'Quillfeather', email: 'zenobia.q@example.org' });
    await api.patchContact(created.id, { lastName: 'Quillfeather-Smythe' });
    expect((await api.call('PATCH', `/api/contacts/${created.id}`, { email: 'bad email zenobia', attributes: { program: 'Zenobia' } })).statusCode).toBe(422);
    await api.list('email=zenobia.q@example.org&lastName=Quill&q=zeno');
    await api.call('POST', `/api/contacts/${created.id}/notes`, { body: 'Zenobia called about her Quillfeather account' });
    const logs = h.logLines.join('\n');
    expect(logs).toContain('/api/contacts/:id');
    expect(logs).not.toMatch(/zenobia/i);
    expect(logs).not.toMatch(/quillfeather/i);
  });
});
