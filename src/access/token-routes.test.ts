import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';

describeEachEngine('API tokens', (h) => {
  it('shows the secret once, lists tokens without secret or hash, and records last use', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const created = await h.request(staff.token, { method: 'POST', url: '/api/tokens', payload: { name: 'import script' } });
    expect(created.statusCode).toBe(201);
    const { token, ...view } = created.json();
    expect(token).toMatch(/^lt_/);
    expect(view).toMatchObject({ name: 'import script', userId: staff.id, prefix: token.slice(0, 10), lastUsedAt: null, revokedAt: null });

    h.clock.advance(5 * 60_000);
    expect((await h.request(token, { method: 'GET', url: '/api/me' })).statusCode).toBe(200);

    const listed = await h.request(staff.token, { method: 'GET', url: '/api/tokens' });
    const raw = listed.body;
    expect(raw).not.toContain(token);
    const hash = await h.ctx.db.selectFrom('api_tokens').select('token_hash').where('id', '=', view.id).executeTakeFirstOrThrow();
    expect(raw).not.toContain(hash.token_hash);
    const item = listed.json().items.find((x: { id: string }) => x.id === view.id);
    expect(item).toEqual({ ...view, lastUsedAt: h.clock.now().toISOString() });
    expect(item).not.toHaveProperty('token');
  });

  it('a revoked token gets 401 at once', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const { id, token } = (await h.request(staff.token, { method: 'POST', url: '/api/tokens', payload: { name: 'temp' } })).json();
    expect((await h.request(token, { method: 'GET', url: '/api/me' })).statusCode).toBe(200);
    expect((await h.request(staff.token, { method: 'DELETE', url: `/api/tokens/${id}` })).statusCode).toBe(204);
    const after = await h.request(token, { method: 'GET', url: '/api/me' });
    expect(after.statusCode).toBe(401);
    expect(after.json().detail).toBe('This API token is unknown or was revoked.');
    const listed = (await h.request(staff.token, { method: 'GET', url: '/api/tokens' })).json().items.find((x: { id: string }) => x.id === id);
    expect(listed.revokedAt).toBe(h.clock.now().toISOString());
  });

  it("keeps users to their own tokens unless they hold tokens.manage", async () => {
    const t = await h.tenant();
    const alice = await h.user(t, 'staff');
    const bob = await h.user(t, 'staff');
    const before = await h.count('api_tokens');
    const forBob = await h.request(alice.token, { method: 'POST', url: '/api/tokens', payload: { name: 'x', userId: bob.id } });
    expect(forBob.statusCode).toBe(403);
    expect(forBob.json().detail).toContain('tokens.manage');
    expect(await h.count('api_tokens')).toBe(before);

    const bobsTokens = (await h.request(bob.token, { method: 'GET', url: '/api/tokens' })).json().items;
    expect(bobsTokens.every((x: { userId: string }) => x.userId === bob.id)).toBe(true);
    const alicesView = (await h.request(alice.token, { method: 'GET', url: '/api/tokens' })).json().items;
    expect(alicesView.map((x: { userId: string }) => x.userId)).toEqual([alice.id]);
    expect((await h.request(alice.token, { method: 'GET', url: `/api/tokens?userId=${bob.id}` })).statusCode).toBe(403);
    expect((await h.request(alice.token, { method: 'DELETE', url: `/api/tokens/${bobsTokens[0].id}` })).statusCode).toBe(404);
    expect((await h.request(bob.token, { method: 'GET', url: '/api/me' })).statusCode).toBe(200);

    // An admin manages anyone's tokens.
    const made = await h.request(t.admin.token, { method: 'POST', url: '/api/tokens', payload: { name: 'for bob', userId: bob.id } });
    expect(made.statusCode).toBe(201);
    expect(made.json().userId).toBe(bob.id);
    const all = (await h.request(t.admin.token, { method: 'GET', url: '/api/tokens' })).json().items.map((x: { userId: string }) => x.userId);
    expect(all).toEqual(expect.arrayContaining([t.adminUserId, alice.id, bob.id]));
    expect((await h.request(t.admin.token, { method: 'DELETE', url: `/api/tokens/${bobsTokens[0].id}` })).statusCode).toBe(204);
    expect((await h.request(bob.token, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);
  });

  it('rejects bad token input with field errors and creates nothing', async () => {
    const t = await h.tenant();
    const before = await h.count('api_tokens');
    const blank = await h.request(t.admin.token, { method: 'POST', url: '/api/tokens', payload: { name: '   ' } });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().errors).toEqual([{ field: 'name', message: 'must not be empty' }]);
    const long = await h.request(t.admin.token, { method: 'POST', url: '/api/tokens', payload: { name: 'x'.repeat(101) } });
    expect(long.json().errors[0].field).toBe('name');
    const nobody = await h.request(t.admin.token, { method: 'POST', url: '/api/tokens', payload: { name: 'x', userId: 'no-such-user' } });
    expect(nobody.statusCode).toBe(404);
    expect(await h.count('api_tokens')).toBe(before);
  });

  it('refuses a malformed Authorization header with a hint', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: 'Token abc' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toContain('Bearer');
  });
});
