import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';

describeEachEngine('custom attribute definitions', (h) => {
  it('are created, listed, read, relabelled and deleted by admins; read by any contact reader', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const program = await api.defineAttribute({ key: 'program', label: 'Program', type: 'choice', options: ['Engineering', ' Law '] });
    expect(program).toMatchObject({ key: 'program', label: 'Program', type: 'choice', options: ['Engineering', 'Law'] });
    const year = await api.defineAttribute({ key: 'grad_year', type: 'number' });
    expect(year).toMatchObject({ label: 'grad_year', options: null });

    const employer = await h.user(t, 'employer_user');
    const asEmployer = contactsApi(h, employer.token);
    expect((await asEmployer.get('/api/attributes')).items.map((d: { key: string }) => d.key)).toEqual(['grad_year', 'program']);
    expect(await asEmployer.get(`/api/attributes/${program.id}`)).toEqual(program);
    expect((await asEmployer.call('POST', '/api/attributes', { key: 'x', type: 'text' })).statusCode).toBe(403);
    const staff = await h.user(t, 'staff');
    expect((await contactsApi(h, staff.token).call('PATCH', `/api/attributes/${program.id}`, { label: 'X' })).statusCode).toBe(403);

    const relabelled = await api.call('PATCH', `/api/attributes/${program.id}`, { label: 'Study program', options: ['Engineering', 'Law', 'Medicine'] });
    expect(relabelled.statusCode).toBe(200);
    expect(relabelled.json()).toMatchObject({ label: 'Study program', options: ['Engineering', 'Law', 'Medicine'] });

    expect((await api.call('DELETE', `/api/attributes/${year.id}`)).statusCode).toBe(204);
    expect((await api.call('GET', `/api/attributes/${year.id}`)).statusCode).toBe(404);
    const actions = (await listAudit(h.ctx, { institutionId: t.institutionId, action: 'attribute.*', limit: 10 })).map((e) => e.action);
    expect(actions).toEqual(['attribute.delete', 'attribute.update', 'attribute.create', 'attribute.create']);
  });

  it('refuses bad keys, duplicate keys and bad options, naming the field', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const cases: [Record<string, unknown>, number, string][] = [
      [{ key: 'Bad Key', type: 'text' }, 422, 'key'],
      [{ key: '1st', type: 'text' }, 422, 'key'],
      [{ key: 'level', type: 'choice' }, 422, 'options'],
      [{ key: 'level', type: 'choice', options: [] }, 422, 'options'],
      [{ key: 'level', type: 'choice', options: ['A', 'a'] }, 422, 'options'],
      [{ key: 'level', type: 'choice', options: ['A', ' '] }, 422, 'options'],
      [{ key: 'level', type: 'number', options: ['A'] }, 422, 'options'],
      [{ key: 'level', type: 'colour' }, 400, 'type'],
    ];
    for (const [body, status, field] of cases) {
      const res = await api.call('POST', '/api/attributes', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.json().errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
    }
    await api.defineAttribute({ key: 'level', type: 'text' });
    const dup = await api.call('POST', '/api/attributes', { key: 'level', type: 'number' });
    expect(dup.statusCode).toBe(409);
    expect(await h.ctx.db.selectFrom('attribute_definitions').select('id').where('institution_id', '=', t.institutionId).execute()).toHaveLength(1);
  });

  it('refuse a type change while values exist, and removing an option still held', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const level = await api.defineAttribute({ key: 'level', type: 'choice', options: ['Junior', 'Senior'] });
    const contact = await api.createContact({ firstName: 'Ada', lastName: 'Lovelace', attributes: { level: 'Senior' } });

    const retype = await api.call('PATCH', `/api/attributes/${level.id}`, { type: 'text' });
    expect(retype.statusCode).toBe(409);
    expect(retype.json().errors).toEqual([{ field: 'type', message: 'cannot change while values exist' }]);
    const drop = await api.call('PATCH', `/api/attributes/${level.id}`, { options: ['Junior'] });
    expect(drop.statusCode).toBe(409);
    expect(drop.json().errors[0]).toMatchObject({ field: 'options', message: expect.stringContaining('Senior') });
    expect((await api.call('PATCH', `/api/attributes/${level.id}`, { options: ['Senior', 'Lead'] })).statusCode).toBe(200);

    await api.patchContact(contact.id, { attributes: { level: null } });
    const retyped = await api.call('PATCH', `/api/attributes/${level.id}`, { type: 'number' });
    expect(retyped.statusCode).toBe(200);
    expect(retyped.json()).toMatchObject({ type: 'number', options: null });
  });

  it('deleting a definition removes every contact’s value of it, audited', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const tag = await api.defineAttribute({ key: 'tag', type: 'text' });
    const keep = await api.defineAttribute({ key: 'keep', type: 'boolean' });
    const a = await api.createContact({ firstName: 'A', lastName: 'A', attributes: { tag: 'x', keep: true } });
    await api.createContact({ firstName: 'B', lastName: 'B', attributes: { tag: 'y' } });
    await api.call('DELETE', `/api/attributes/${tag.id}`);
    const left = await h.ctx.db.selectFrom('contact_attribute_values').select('attribute_id').where('institution_id', '=', t.institutionId).execute();
    expect(left).toEqual([{ attribute_id: keep.id }]);
    expect((await api.get(`/api/contacts/${a.id}`)).attributes).toEqual({ keep: true });
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'attribute.delete', limit: 1 });
    expect(entry).toMatchObject({ targetId: tag.id, meta: { valuesRemoved: 2 }, before: { key: 'tag', type: 'text' } });
    const unknown = await api.call('PATCH', `/api/contacts/${a.id}`, { attributes: { tag: 'z' } });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors).toEqual([{ field: 'attributes.tag', message: expect.stringContaining('not a defined attribute') }]);
  });
});
