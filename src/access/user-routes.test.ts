import { expect, it } from 'vitest';
import { describeEachEngine, type Harness } from '../../test/support/harness.ts';
import { signIn } from '../../test/support/sessions.ts';
import { listAudit } from '../audit/audit-log.ts';
import { newId } from '../ids.ts';
import { contactRow } from '../../test/support/contact-row.ts';

const newUser = (over: Record<string, unknown> = {}) => ({
  email: `person-${Math.random().toString(36).slice(2, 8)}@example.org`,
  name: 'Pat Example',
  password: 'a long enough password',
  role: 'staff',
  ...over,
});

/** A contact owned by the user with a note they wrote: rows the contacts domain creates, inserted bare here. */
async function contactWithNote(h: Harness, institutionId: string, userId: string) {
  const now = h.clock.now().toISOString();
  const contactId = newId();
  await h.ctx.db
    .insertInto('contacts')
    .values(contactRow({ id: contactId, institution_id: institutionId, owner_user_id: userId, created_at: now, updated_at: now }))
    .execute();
  const noteId = newId();
  await h.ctx.db
    .insertInto('contact_notes')
    .values({ id: noteId, institution_id: institutionId, contact_id: contactId, author_user_id: userId, body: 'met at fair', created_at: now, updated_at: now })
    .execute();
  return { contactId, noteId };
}

describeEachEngine('user management', (h) => {
  it('creates a user who can then sign in, and audits it with the PII sealed', async () => {
    const t = await h.tenant();
    const input = newUser({ organizationId: t.organizationIds[1] });
    const res = await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: input });
    expect(res.statusCode).toBe(201);
    const user = res.json();
    expect(user).toMatchObject({ email: input.email, name: 'Pat Example', role: { key: 'staff', name: 'Staff' }, organizationId: t.organizationIds[1], siteAccess: true });
    expect(user).not.toHaveProperty('password');
    expect(user).not.toHaveProperty('passwordHash');

    const session = await signIn(h, input.email, input.password);
    expect(session.response.json().user.permissions).toContain('contacts.write');

    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'user.create', targetId: user.id, limit: 1 });
    expect(entry.after).toMatchObject({ email: input.email, name: 'Pat Example', role: 'staff' });
    const raw = await h.ctx.db.selectFrom('audit_log').select(['after_enc', 'subject_id']).where('target_id', '=', user.id).execute();
    expect(raw[0].subject_id).toBe(user.id);
    expect(raw[0].after_enc).not.toContain(input.email);

    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/users/${user.id}` })).json()).toEqual(user);
  });

  it('accepts a role by id as well as by key, and refuses an unknown role naming the field', async () => {
    const t = await h.tenant();
    const byId = await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: newUser({ role: t.roleIds.privacy_officer }) });
    expect(byId.statusCode).toBe(201);
    expect(byId.json().role.key).toBe('privacy_officer');
    const before = await h.count('users');
    const unknown = await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: newUser({ role: 'wizard' }) });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors).toEqual([{ field: 'role', message: expect.stringContaining('not a role') }]);
    expect(await h.count('users')).toBe(before);
  });

  it('refuses a second user with the same email (any case) with 409 naming the email field', async () => {
    const t = await h.tenant();
    const input = newUser();
    expect((await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: input })).statusCode).toBe(201);
    const before = await h.count('users');
    const dup = await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: newUser({ email: input.email.toUpperCase() }) });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors).toEqual([{ field: 'email', message: 'is already taken' }]);
    expect(await h.count('users')).toBe(before);
  });

  it('rejects bad user input with field-named errors and changes nothing', async () => {
    const t = await h.tenant();
    const someone = await h.user(t, 'staff');
    const usersBefore = await h.count('users');
    const auditBefore = await h.count('audit_log');
    const bad = await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: { email: 'nope', name: '', password: 'short', role: 'staff' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['email', 'name', 'password']));
    const missing = await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: { email: 'a@example.org' } });
    expect(missing.json().errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['name', 'password', 'role']));
    const patch = await h.request(t.admin.token, { method: 'PATCH', url: `/api/users/${someone.id}`, payload: { name: 42 } });
    expect(patch.statusCode).toBe(400);
    expect(patch.json().errors[0].field).toBe('name');
    const access = await h.request(t.admin.token, { method: 'POST', url: `/api/users/${someone.id}/access`, payload: { enabled: 'no' } });
    expect(access.statusCode).toBe(400);
    expect(access.json().errors[0].field).toBe('enabled');
    const page = await h.request(t.admin.token, { method: 'GET', url: '/api/users?limit=0' });
    expect(page.statusCode).toBe(400);
    expect(page.json().errors[0].field).toBe('querystring.limit');
    expect(await h.count('users')).toBe(usersBefore);
    expect(await h.count('audit_log')).toBe(auditBefore);
    const unchanged = await h.request(t.admin.token, { method: 'GET', url: `/api/users/${someone.id}` });
    expect(unchanged.json()).toMatchObject({ siteAccess: true, name: someone.email.split('@')[0] });
  });

  it("changes a user's name, role and organization with before and after in the audit log", async () => {
    const t = await h.tenant();
    const u = await h.user(t, 'staff');
    const res = await h.request(t.admin.token, {
      method: 'PATCH',
      url: `/api/users/${u.id}`,
      payload: { name: 'Renamed Person', roleId: t.roleIds.employer_user, organizationId: t.organizationIds[1] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Renamed Person', role: { id: t.roleIds.employer_user, key: 'employer_user' }, organizationId: t.organizationIds[1] });
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'user.update', targetId: u.id, limit: 1 });
    expect(entry.before).toEqual({ name: u.email.split('@')[0], role: 'staff', organizationId: t.organizationIds[0] });
    expect(entry.after).toEqual({ name: 'Renamed Person', role: 'employer_user', organizationId: t.organizationIds[1] });
    // The new role takes effect on the next request.
    expect((await h.request(u.token, { method: 'GET', url: '/api/session' })).json().user.permissions).toEqual(['account.self', 'contacts.read']);

    const other = await h.tenant();
    const foreignOrg = await h.request(t.admin.token, { method: 'PATCH', url: `/api/users/${u.id}`, payload: { organizationId: other.organizationIds[0] } });
    expect(foreignOrg.statusCode).toBe(422);
    expect(foreignOrg.json().errors[0].field).toBe('organizationId');
    const foreignRole = await h.request(t.admin.token, { method: 'PATCH', url: `/api/users/${u.id}`, payload: { roleId: other.roleIds.admin } });
    expect(foreignRole.statusCode).toBe(422);
    expect(foreignRole.json().errors[0].field).toBe('roleId');
  });

  it('pages through users with a cursor', async () => {
    const t = await h.tenant();
    for (let i = 0; i < 3; i++) await h.user(t, 'staff');
    const first = (await h.request(t.admin.token, { method: 'GET', url: '/api/users?limit=2' })).json();
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toBe(first.items[1].id);
    const second = (await h.request(t.admin.token, { method: 'GET', url: `/api/users?limit=2&after=${first.nextCursor}` })).json();
    expect(second.items).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.items, ...second.items].map((u: { id: string }) => u.id);
    expect(new Set(ids).size).toBe(4);
    expect(ids).toContain(t.adminUserId);
  });

  it('does not let a user switch off or delete themselves', async () => {
    const t = await h.tenant();
    const off = await h.request(t.admin.token, { method: 'POST', url: `/api/users/${t.adminUserId}/access`, payload: { enabled: false } });
    expect(off.statusCode).toBe(409);
    expect(off.json().detail).toContain('your own access');
    const del = await h.request(t.admin.token, { method: 'DELETE', url: `/api/users/${t.adminUserId}` });
    expect(del.statusCode).toBe(409);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/users/${t.adminUserId}` })).json().siteAccess).toBe(true);
  });

  it('deletes a user with their sessions, tokens and audit PII; their contacts and notes stay without them', async () => {
    const t = await h.tenant();
    const input = newUser();
    const created = await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: input, headers: { 'idempotency-key': 'create-pat' } });
    const userId = created.json().id as string;
    const session = await signIn(h, input.email, input.password);
    const token = (await session.request({ method: 'POST', url: '/api/tokens', payload: { name: 'script' } })).json().token as string;
    await h.request(t.admin.token, { method: 'PATCH', url: `/api/users/${userId}`, payload: { name: 'Pat Renamed' } });
    const { contactId, noteId } = await contactWithNote(h, t.institutionId, userId);

    const before = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: userId, limit: 50 });
    expect(before.filter((e) => e.after && JSON.stringify(e.after).includes(input.email)).length).toBeGreaterThan(0);

    const del = await h.request(t.admin.token, { method: 'DELETE', url: `/api/users/${userId}` });
    expect(del.statusCode).toBe(204);

    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/users/${userId}` })).statusCode).toBe(404);
    expect(await h.ctx.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).toEqual([]);
    expect(await h.ctx.db.selectFrom('api_tokens').select('id').where('user_id', '=', userId).execute()).toEqual([]);
    expect(await h.ctx.db.selectFrom('idempotency_keys').select('key').where('resource_id', '=', userId).execute()).toEqual([]);
    expect((await session.request({ method: 'GET', url: '/api/me' })).statusCode).toBe(401);
    expect((await h.request(token, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);
    expect((await h.request(null, { method: 'POST', url: '/api/session', payload: { email: input.email, password: input.password } })).statusCode).toBe(401);

    const contact = await h.ctx.db.selectFrom('contacts').select('owner_user_id').where('id', '=', contactId).executeTakeFirstOrThrow();
    expect(contact.owner_user_id).toBeNull();
    const note = await h.ctx.db.selectFrom('contact_notes').select(['author_user_id', 'body']).where('id', '=', noteId).executeTakeFirstOrThrow();
    expect(note).toEqual({ author_user_id: null, body: 'met at fair' });

    const after = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: userId, limit: 50 });
    const sealed = after.filter((e) => ['user.create', 'user.update', 'session.create'].includes(e.action));
    expect(sealed.length).toBeGreaterThanOrEqual(3);
    for (const e of sealed) expect(e).toMatchObject({ shredded: true, before: null, after: null });
    expect(JSON.stringify(after)).not.toContain(input.email);
    expect(after[0]).toMatchObject({ action: 'user.delete', actorUserId: t.adminUserId, meta: { role: 'staff' } });
  });

  it('refuses the user routes to a role without users.manage', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const before = await h.count('users');
    expect((await h.request(staff.token, { method: 'GET', url: '/api/users' })).statusCode).toBe(403);
    const create = await h.request(staff.token, { method: 'POST', url: '/api/users', payload: newUser() });
    expect(create.statusCode).toBe(403);
    expect(create.json().detail).toContain('users.manage');
    expect(await h.count('users')).toBe(before);
    expect((await h.request(null, { method: 'GET', url: '/api/users' })).statusCode).toBe(401);
  });

  it('replays a create sent again with the same Idempotency-Key instead of creating twice', async () => {
    const t = await h.tenant();
    const input = newUser();
    const headers = { 'idempotency-key': 'retry-1' };
    const first = await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: input, headers });
    const retry = await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: input, headers });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await h.ctx.db.selectFrom('users').select('id').where('email', '=', input.email).execute()).toHaveLength(1);
  });

  it('stores only an argon2id hash of the password', async () => {
    const t = await h.tenant();
    const input = newUser();
    await h.request(t.admin.token, { method: 'POST', url: '/api/users', payload: input });
    const row = await h.ctx.db.selectFrom('users').select('password_hash').where('email', '=', input.email).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(input.password);
  });
});
