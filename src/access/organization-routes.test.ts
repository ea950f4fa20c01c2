import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { listAudit, systemActor } from '../audit/audit-log.ts';
import { createPlatformUser } from './users.ts';

describeEachEngine('organizations and institution', (h) => {
  it('shows the caller their institution with its organizations', async () => {
    const t = await h.tenant('org-inst');
    const staff = await h.user(t, 'staff');
    const res = await h.request(staff.token, { method: 'GET', url: '/api/institution' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: t.institutionId, slug: 'org-inst', name: 'Institution org-inst' });
    expect(res.json().organizations.map((o: { name: string; tier: string }) => [o.name, o.tier])).toEqual([
      ['Alumni', 'scaled'],
      ['Career Services', 'enterprise'],
    ]);
  });

  it('lets staff read organizations but only organizations.manage change them', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const list = await h.request(staff.token, { method: 'GET', url: '/api/organizations' });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toHaveLength(2);
    expect((await h.request(staff.token, { method: 'GET', url: `/api/organizations/${t.organizationIds[0]}` })).json().emailDomains).toEqual([
      expect.stringMatching(/\.example\.org$/),
    ]);
    const before = await h.count('organizations');
    const create = await h.request(staff.token, { method: 'POST', url: '/api/organizations', payload: { name: 'Law School' } });
    expect(create.statusCode).toBe(403);
    const patch = await h.request(staff.token, { method: 'PATCH', url: `/api/organizations/${t.organizationIds[0]}`, payload: { tier: 'free' } });
    expect(patch.statusCode).toBe(403);
    expect(await h.count('organizations')).toBe(before);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/organizations/${t.organizationIds[0]}` })).json().tier).toBe('enterprise');
  });

  it('creates and updates an organization with tier, domains, CSM and contract end, audited', async () => {
    const t = await h.tenant();
    const csm = await createPlatformUser(h.ctx, { email: `csm-${t.institutionId}@lethe.example`, name: 'Casey CSM', password: 'a long csm passphrase', platformRole: 'csm' }, systemActor);
    const support = await createPlatformUser(h.ctx, { email: `sup-${t.institutionId}@lethe.example`, name: 'Sam', password: 'a long sup passphrase', platformRole: 'support' }, systemActor);

    const created = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/organizations',
      payload: { name: 'Law School', tier: 'mid_market', emailDomains: ['Law.Uni.edu', 'law.uni.edu'] },
      headers: { 'idempotency-key': 'law-school' },
    });
    expect(created.statusCode).toBe(201);
    const org = created.json();
    expect(org).toMatchObject({ name: 'Law School', tier: 'mid_market', emailDomains: ['law.uni.edu'], csmUserId: null, contractEndsAt: null });

    const notCsm = await h.request(t.admin.token, { method: 'PATCH', url: `/api/organizations/${org.id}`, payload: { csmUserId: support.id } });
    expect(notCsm.statusCode).toBe(422);
    expect(notCsm.json().errors[0].field).toBe('csmUserId');
    const tenantUser = await h.request(t.admin.token, { method: 'PATCH', url: `/api/organizations/${org.id}`, payload: { csmUserId: t.adminUserId } });
    expect(tenantUser.statusCode).toBe(422);

    const updated = await h.request(t.admin.token, {
      method: 'PATCH',
      url: `/api/organizations/${org.id}`,
      payload: { tier: 'enterprise', csmUserId: csm.id, contractEndsAt: '2026-06-30T00:00:00+02:00' },
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ name: 'Law School', tier: 'enterprise', csmUserId: csm.id, contractEndsAt: '2026-06-29T22:00:00.000Z', emailDomains: ['law.uni.edu'] });
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'organization.update', targetId: org.id, limit: 1 });
    expect(entry).toMatchObject({ before: { tier: 'mid_market', csmUserId: null }, after: { tier: 'enterprise', csmUserId: csm.id } });

    const cleared = await h.request(t.admin.token, { method: 'PATCH', url: `/api/organizations/${org.id}`, payload: { csmUserId: null, contractEndsAt: null } });
    expect(cleared.json()).toMatchObject({ csmUserId: null, contractEndsAt: null, tier: 'enterprise' });
  });

  it('rejects bad organization input with field errors and changes nothing', async () => {
    const t = await h.tenant();
    const before = await h.count('organizations');
    const bad = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/organizations',
      payload: { name: '', tier: 'gold', emailDomains: ['not a domain'], contractEndsAt: 'next tuesday' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['name', 'tier', 'emailDomains.0', 'contractEndsAt']));
    const patch = await h.request(t.admin.token, { method: 'PATCH', url: `/api/organizations/${t.organizationIds[0]}`, payload: { tier: 'platinum' } });
    expect(patch.statusCode).toBe(400);
    expect(patch.json().errors[0].field).toBe('tier');
    expect(await h.count('organizations')).toBe(before);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/organizations/${t.organizationIds[0]}` })).json().tier).toBe('enterprise');
  });
});
