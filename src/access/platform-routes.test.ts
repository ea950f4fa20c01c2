import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachEngine, type Harness } from '../../test/support/harness.ts';
import { signIn } from '../../test/support/sessions.ts';
import { listAudit, systemActor } from '../audit/audit-log.ts';
import { createPlatformUser } from './users.ts';

const PASSWORD = 'platform staff passphrase';

async function platformUser(h: Harness, role: 'support' | 'csm') {
  const email = `${role}-${randomBytes(3).toString('hex')}@lethe.example`;
  const user = await createPlatformUser(h.ctx, { email, name: `${role} person`, password: PASSWORD, platformRole: role }, systemActor);
  return { ...user, session: await signIn(h, email, PASSWORD) };
}

describeEachEngine('platform support and CSM access', (h) => {
  it('signs in like anyone, must name the tenant, and every request into it is audited', async () => {
    const t = await h.tenant();
    const support = await platformUser(h, 'support');
    expect(support.session.response.json().user).toMatchObject({ institutionId: null, platformRole: 'support', role: { key: 'support' } });

    const unnamed = await support.session.request({ method: 'GET', url: '/api/users' });
    expect(unnamed.statusCode).toBe(400);
    expect(unnamed.json().detail).toContain('x-lethe-institution');

    const before = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'platform.access', limit: 100 });
    const headers = { 'x-lethe-institution': t.institutionId };
    const users = await support.session.request({ method: 'GET', url: '/api/users', headers });
    expect(users.statusCode).toBe(200);
    expect(users.json().items.map((u: { id: string }) => u.id)).toContain(t.adminUserId);
    await support.session.request({ method: 'GET', url: `/api/users/${t.adminUserId}`, headers });

    const after = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'platform.access', limit: 100 });
    expect(after.length - before.length).toBe(2);
    expect(after[0]).toMatchObject({
      actorUserId: support.id,
      targetType: 'institution',
      targetId: t.institutionId,
      meta: { platformRole: 'support', method: 'GET', route: '/api/users/:id' },
    });
    expect(after[1].meta).toMatchObject({ route: '/api/users' });
  });

  it('a platform user naming an unknown institution gets 404', async () => {
    const support = await platformUser(h, 'support');
    const res = await support.session.request({ method: 'GET', url: '/api/users', headers: { 'x-lethe-institution': 'no-such-tenant' } });
    expect(res.statusCode).toBe(404);
  });

  it('a CSM holds only the platform CSM permissions inside a tenant', async () => {
    const t = await h.tenant();
    const csm = await platformUser(h, 'csm');
    const headers = { 'x-lethe-institution': t.institutionId };
    expect((await csm.session.request({ method: 'GET', url: '/api/users', headers })).statusCode).toBe(403);
    expect((await csm.session.request({ method: 'GET', url: '/api/organizations', headers })).statusCode).toBe(200);
    expect((await csm.session.request({ method: 'GET', url: '/api/audit', headers })).statusCode).toBe(200);
  });

  it('lists institutions for platform users only', async () => {
    const t = await h.tenant();
    const csm = await platformUser(h, 'csm');
    const res = await csm.session.request({ method: 'GET', url: '/api/platform/institutions' });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((i: { id: string }) => i.id)).toContain(t.institutionId);
    const [entry] = await listAudit(h.ctx, { institutionId: null, action: 'platform.list_institutions', limit: 1 });
    expect(entry.actorUserId).toBe(csm.id);

    const tenantAdmin = await h.request(t.admin.token, { method: 'GET', url: '/api/platform/institutions' });
    expect(tenantAdmin.statusCode).toBe(403);
    expect(tenantAdmin.body).not.toContain(t.institutionId);
    expect((await h.request(null, { method: 'GET', url: '/api/platform/institutions' })).statusCode).toBe(401);
  });

  it('manages their own account without naming a tenant, but cannot hold API tokens', async () => {
    const t = await h.tenant();
    const support = await platformUser(h, 'support');
    const me = await support.session.request({ method: 'PATCH', url: '/api/me', payload: { name: 'Sam Support' } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ name: 'Sam Support', platformRole: 'support', institutionId: null });
    const before = await h.count('api_tokens');
    const token = await support.session.request({ method: 'POST', url: '/api/tokens', payload: { name: 'x' }, headers: { 'x-lethe-institution': t.institutionId } });
    expect(token.statusCode).toBe(403);
    expect(await h.count('api_tokens')).toBe(before);
  });
});
