import { expect, it } from 'vitest';
import { describeEachEngine, TEST_PASSWORD } from '../../test/support/harness.ts';
import { signIn } from '../../test/support/sessions.ts';
import { listAudit } from '../audit/audit-log.ts';

describeEachEngine('roles and own account', (h) => {
  it('lists the built-in roles with the permissions they grant and how many users hold them', async () => {
    const t = await h.tenant();
    await h.user(t, 'staff');
    const res = await h.request(t.admin.token, { method: 'GET', url: '/api/roles' });
    expect(res.statusCode).toBe(200);
    const byKey = Object.fromEntries(res.json().items.map((r: { key: string }) => [r.key, r]));
    expect(Object.keys(byKey).sort()).toEqual(['admin', 'employer_user', 'privacy_officer', 'staff']);
    expect(byKey.staff).toMatchObject({ builtin: true, userCount: 1, name: 'Staff' });
    expect(byKey.staff.permissions).toContain('contacts.write');
    expect(byKey.admin.userCount).toBe(1);
    expect(byKey.employer_user.permissions).toEqual(['account.self', 'contacts.read']);
  });

  it('a custom "denied access" role keeps account settings and nothing else', async () => {
    const t = await h.tenant();
    const created = await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Denied Access', permissions: ['account.self'] } });
    expect(created.statusCode).toBe(201);
    const role = created.json();
    expect(role).toMatchObject({ key: 'denied_access', name: 'Denied Access', builtin: false, permissions: ['account.self'], userCount: 0 });

    const employer = await h.user(t, 'employer_user');
    expect((await h.request(t.admin.token, { method: 'PATCH', url: `/api/users/${employer.id}`, payload: { roleId: role.id } })).statusCode).toBe(200);

    const session = await signIn(h, employer.email);
    expect(session.response.json().user.permissions).toEqual(['account.self']);
    const me = await session.request({ method: 'GET', url: '/api/me' });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ id: employer.id, role: { key: 'denied_access' }, permissions: ['account.self'] });
    const renamed = await session.request({ method: 'PATCH', url: '/api/me', payload: { name: 'New Name' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().name).toBe('New Name');

    for (const url of ['/api/users', '/api/organizations', '/api/roles', '/api/audit']) {
      const res = await session.request({ method: 'GET', url });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 403 });
    }
  });

  it('refuses an unknown permission naming the field, and creates nothing', async () => {
    const t = await h.tenant();
    const before = await h.count('roles');
    const res = await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Odd', permissions: ['account.self', 'contacts.fly'] } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ field: 'permissions.1' })]);
    const badKey = await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Odd', key: 'Has Spaces', permissions: [] } });
    expect(badKey.statusCode).toBe(400);
    expect(badKey.json().errors[0].field).toBe('key');
    const noName = await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { permissions: [] } });
    expect(noName.json().errors[0].field).toBe('name');
    expect(await h.count('roles')).toBe(before);
  });

  it('refuses a custom role whose key is taken, including a built-in key', async () => {
    const t = await h.tenant();
    expect((await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Readers', permissions: ['contacts.read'] } })).statusCode).toBe(201);
    const again = await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Readers', permissions: [] } });
    expect(again.statusCode).toBe(409);
    expect(again.json().errors[0].field).toBe('key');
    const builtinKey = await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Another', key: 'admin', permissions: [] } });
    expect(builtinKey.statusCode).toBe(409);
  });

  it('changes a custom role, and the change applies to its holders at once; built-in roles stay as they are', async () => {
    const t = await h.tenant();
    const role = (await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Readers', permissions: ['account.self'] } })).json();
    const holder = await h.user(t, { roleId: role.id });
    expect((await h.request(holder.token, { method: 'GET', url: '/api/organizations' })).statusCode).toBe(403);
    const patched = await h.request(t.admin.token, { method: 'PATCH', url: `/api/roles/${role.id}`, payload: { permissions: ['account.self', 'contacts.read'] } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().permissions).toEqual(['account.self', 'contacts.read']);
    expect((await h.request(holder.token, { method: 'GET', url: '/api/organizations' })).statusCode).toBe(200);
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'role.update', targetId: role.id, limit: 1 });
    expect(entry).toMatchObject({ before: { permissions: ['account.self'] }, after: { permissions: ['account.self', 'contacts.read'] } });

    for (const request of [
      { method: 'PATCH' as const, url: `/api/roles/${t.roleIds.staff}`, payload: { permissions: ['users.manage'] } },
      { method: 'DELETE' as const, url: `/api/roles/${t.roleIds.employer_user}` },
    ]) {
      const res = await h.request(t.admin.token, request);
      expect(res.statusCode).toBe(409);
      expect(res.json().detail).toBe('Built-in roles cannot be changed or deleted; create a custom role with the permissions you want instead.');
    }
    const staff = (await h.request(t.admin.token, { method: 'GET', url: `/api/roles/${t.roleIds.staff}` })).json();
    expect(staff.permissions).not.toContain('users.manage');
  });

  it('refuses to delete a custom role while users hold it, then deletes it', async () => {
    const t = await h.tenant();
    const role = (await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Temp', permissions: [] } })).json();
    const holder = await h.user(t, { roleId: role.id });
    const refused = await h.request(t.admin.token, { method: 'DELETE', url: `/api/roles/${role.id}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toContain('1 user(s) hold the role "Temp"');
    await h.request(t.admin.token, { method: 'PATCH', url: `/api/users/${holder.id}`, payload: { roleId: 'staff' } });
    expect((await h.request(t.admin.token, { method: 'DELETE', url: `/api/roles/${role.id}` })).statusCode).toBe(204);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/roles/${role.id}` })).statusCode).toBe(404);
  });

  it('changes your own password only with the current one, and signs out your other sessions', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const here = await signIn(h, staff.email);
    const elsewhere = await signIn(h, staff.email);
    const missing = await here.request({ method: 'PATCH', url: '/api/me', payload: { newPassword: 'a new long passphrase' } });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toEqual([{ field: 'currentPassword', message: 'is required to change the password' }]);
    const wrong = await here.request({ method: 'PATCH', url: '/api/me', payload: { currentPassword: 'not my password', newPassword: 'a new long passphrase' } });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().errors[0]).toEqual({ field: 'currentPassword', message: 'is not your current password' });
    const short = await here.request({ method: 'PATCH', url: '/api/me', payload: { currentPassword: TEST_PASSWORD, newPassword: 'short' } });
    expect(short.statusCode).toBe(400);
    expect(short.json().errors[0].field).toBe('newPassword');
    expect((await h.request(null, { method: 'POST', url: '/api/session', payload: { email: staff.email, password: TEST_PASSWORD } })).statusCode).toBe(200);

    const ok = await here.request({ method: 'PATCH', url: '/api/me', payload: { currentPassword: TEST_PASSWORD, newPassword: 'a new long passphrase' } });
    expect(ok.statusCode).toBe(200);
    expect((await here.request({ method: 'GET', url: '/api/me' })).statusCode).toBe(200);
    expect((await elsewhere.request({ method: 'GET', url: '/api/me' })).statusCode).toBe(401);
    expect((await h.request(null, { method: 'POST', url: '/api/session', payload: { email: staff.email, password: TEST_PASSWORD } })).statusCode).toBe(401);
    expect((await h.request(null, { method: 'POST', url: '/api/session', payload: { email: staff.email, password: 'a new long passphrase' } })).statusCode).toBe(200);
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'user.password_change', targetId: staff.id, limit: 1 });
    expect(entry).toMatchObject({ actorUserId: staff.id, before: null, after: null });
  });

  it('refuses /api/me to a role without account.self', async () => {
    const t = await h.tenant();
    const role = (await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Locked', permissions: [] } })).json();
    const locked = await h.user(t, { roleId: role.id });
    const res = await h.request(locked.token, { method: 'GET', url: '/api/me' });
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toContain('account.self');
  });
});
