import { expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { describeEachEngine } from '../../test/support/harness.ts';

describeEachEngine('access: tenant isolation', (h) => {
  it("answers 404, never data, for another institution's users, roles, tokens and organizations, and changes nothing", async () => {
    const mine = await h.tenant();
    const theirs = await h.tenant();
    const theirUser = await h.user(theirs, 'staff');
    const theirRole = (await h.request(theirs.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Theirs', permissions: ['account.self'] } })).json();
    const theirToken = (await h.request(theirs.admin.token, { method: 'GET', url: '/api/tokens' })).json().items[0];
    const theirOrg = theirs.organizationIds[0];

    const attempts: InjectOptions[] = [
      { method: 'GET', url: `/api/users/${theirUser.id}` },
      { method: 'PATCH', url: `/api/users/${theirUser.id}`, payload: { name: 'Hijacked' } },
      { method: 'POST', url: `/api/users/${theirUser.id}/access`, payload: { enabled: false } },
      { method: 'DELETE', url: `/api/users/${theirUser.id}` },
      { method: 'GET', url: `/api/roles/${theirRole.id}` },
      { method: 'PATCH', url: `/api/roles/${theirRole.id}`, payload: { permissions: ['users.manage'] } },
      { method: 'DELETE', url: `/api/roles/${theirRole.id}` },
      { method: 'DELETE', url: `/api/tokens/${theirToken.id}` },
      { method: 'GET', url: `/api/organizations/${theirOrg}` },
      { method: 'PATCH', url: `/api/organizations/${theirOrg}`, payload: { tier: 'free' } },
    ];
    for (const attempt of attempts) {
      const res = await h.request(mine.admin.token, attempt);
      expect({ request: `${attempt.method} ${attempt.url}`, status: res.statusCode }).toEqual({ request: `${attempt.method} ${attempt.url}`, status: 404 });
      expect(res.body).not.toContain(theirUser.email);
      expect(res.body).not.toContain('Theirs');
    }

    // Their objects are untouched and their admin still works.
    const user = (await h.request(theirs.admin.token, { method: 'GET', url: `/api/users/${theirUser.id}` })).json();
    expect(user).toMatchObject({ siteAccess: true, name: theirUser.email.split('@')[0] });
    expect((await h.request(theirs.admin.token, { method: 'GET', url: `/api/roles/${theirRole.id}` })).json().permissions).toEqual(['account.self']);
    expect((await h.request(theirs.admin.token, { method: 'GET', url: `/api/organizations/${theirOrg}` })).json().tier).toBe('enterprise');
    expect((await h.request(theirs.admin.token, { method: 'GET', url: '/api/me' })).statusCode).toBe(200);
  });

  it('lists only the caller institution, and ignores X-Lethe-Institution from a tenant user', async () => {
    const mine = await h.tenant();
    const theirs = await h.tenant();
    const theirUser = await h.user(theirs, 'staff');
    const headers = { 'x-lethe-institution': theirs.institutionId };
    const users = (await h.request(mine.admin.token, { method: 'GET', url: '/api/users', headers })).json().items.map((u: { id: string }) => u.id);
    expect(users).toContain(mine.adminUserId);
    expect(users).not.toContain(theirUser.id);
    const orgs = (await h.request(mine.admin.token, { method: 'GET', url: '/api/organizations', headers })).json().items.map((o: { id: string }) => o.id);
    expect(orgs.sort()).toEqual([...mine.organizationIds].sort());
    const roles = (await h.request(mine.admin.token, { method: 'GET', url: '/api/roles', headers })).json().items.map((r: { id: string }) => r.id);
    expect(roles).not.toContain(theirs.roleIds.admin);
    const tokens = (await h.request(mine.admin.token, { method: 'GET', url: '/api/tokens', headers })).json().items.map((x: { userId: string }) => x.userId);
    expect(tokens).not.toContain(theirs.adminUserId);
    expect((await h.request(mine.admin.token, { method: 'GET', url: '/api/institution', headers })).json().id).toBe(mine.institutionId);
    const forTheirs = await h.request(mine.admin.token, { method: 'POST', url: '/api/tokens', payload: { name: 'x', userId: theirUser.id } });
    expect(forTheirs.statusCode).toBe(404);
  });
});
