import { expect, it } from 'vitest';
import { describeEachEngine, TEST_PASSWORD, type Harness, type SeededTenant } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';
import { exitCodes } from '../cli/errors.ts';
import { runCli } from './test-fixtures.ts';

async function slugOf(h: Harness, t: SeededTenant): Promise<string> {
  return (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow()).slug;
}

describeEachEngine('lethe contact / lethe bulk / lethe user (lifecycle from the CLI)', (h) => {
  it('runs each contact action, audited as the CLI, and exits with a code that says what went wrong', async () => {
    const t = await h.tenant();
    const slug = await slugOf(h, t);
    const api = contactsApi(h, t.admin.token);
    const c = await api.createContact({ firstName: 'Cli', lastName: 'Contact', email: 'cli.contact@example.org' });

    const archived = await runCli(h, ['contact', 'archive', c.id, '--institution', slug, '--keep-visibility', '--reason', 'left']);
    expect(archived).toMatchObject({ code: 0, stdout: `Contact ${c.id}: archive done.\n` });
    expect(await api.get(`/api/contacts/${c.id}/lifecycle`)).toMatchObject({ archived: true, doNotEmail: true, visibility: 'everyone' });
    expect((await runCli(h, ['contact', 'archive', c.id, '--institution', slug])).stdout).toBe(`Contact ${c.id}: unchanged. The contact is already archived.\n`);
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.archive', targetId: c.id, limit: 1 });
    expect(entry.actorLabel).toBe('cli');

    expect((await runCli(h, ['contact', 'disable', c.id, '--institution', slug])).code).toBe(0);
    const refused = await runCli(h, ['contact', 'reject', c.id, '--institution', slug]);
    expect(refused).toMatchObject({ code: exitCodes.conflict, stderr: 'The contact is disabled (its account was deleted); restore it first.\n' });
    expect((await runCli(h, ['contact', 'restore', c.id, '--institution', slug])).code).toBe(0);
    expect((await runCli(h, ['contact', 'restore', 'no-such-contact', '--institution', slug])).code).toBe(exitCodes.notFound);
    expect((await runCli(h, ['contact', 'restore', c.id, '--institution', 'no-such-place'])).code).toBe(exitCodes.notFound);

    const badReason = await runCli(h, ['contact', 'expunge', c.id, '--institution', slug, '--reason', 'whim']);
    expect(badReason.code).toBe(exitCodes.usage);
    expect(badReason.stderr).toContain('--reason');
    expect((await api.call('GET', `/api/contacts/${c.id}`)).statusCode).toBe(200);

    const lifecycle = await runCli(h, ['contact', 'lifecycle', c.id, '--institution', slug]);
    expect(JSON.parse(lifecycle.stdout)).toMatchObject({ contactId: c.id, status: 'active', archived: true });
    expect((await runCli(h, ['contact', 'expunge', c.id, '--institution', slug, '--no-notify', '--reason', 'contact_request'])).code).toBe(0);
    expect((await api.call('GET', `/api/contacts/${c.id}`)).statusCode).toBe(404);
    expect((await runCli(h, ['contact', 'delete', c.id, '--institution', slug])).stdout).toContain('The contact was already expunged.');
  });

  it('revives from the CLI: unarchive back to the old employer or another, approve a rejected contact; deletes with its records', async () => {
    const t = await h.tenant();
    const slug = await slugOf(h, t);
    const api = contactsApi(h, t.admin.token);
    const acme = (await api.call('POST', '/api/employers', { name: 'Acme Corp' })).json().id;
    const globex = (await api.call('POST', '/api/employers', { name: 'Globex' })).json().id;
    const c = await api.createContact({ firstName: 'Cli', lastName: 'Revived', employerId: acme });
    const run = async (...args: string[]) => {
      const res = await runCli(h, [...args, '--institution', slug]);
      expect(res.code, res.stderr).toBe(0);
      return res.stdout;
    };

    await run('contact', 'archive', c.id);
    expect(await run('contact', 'unarchive', c.id)).toBe(`Contact ${c.id}: unarchive done.\n`);
    expect(await api.get(`/api/contacts/${c.id}/lifecycle`)).toMatchObject({ archived: false, doNotEmail: false, visibility: 'everyone', employerId: acme });
    await run('contact', 'archive', c.id);
    await run('contact', 'unarchive', c.id, '--to', globex);
    expect((await api.get(`/api/contacts/${c.id}/lifecycle`)).employerId).toBe(globex);

    await run('contact', 'reject', c.id, '--reason', 'not a real contact');
    expect((await api.get(`/api/contacts/${c.id}/lifecycle`)).approvalStatus).toBe('rejected');
    expect(await run('contact', 'approve', c.id)).toBe(`Contact ${c.id}: approve done.\n`);
    expect((await api.get(`/api/contacts/${c.id}/lifecycle`)).approvalStatus).toBe('approved');

    await api.call('POST', `/api/contacts/${c.id}/notes`, { body: 'to be deleted' });
    expect(await run('contact', 'delete', c.id, '--reason', 'duplicate')).toBe(`Contact ${c.id}: delete done.\n`);
    expect((await api.call('GET', `/api/contacts/${c.id}`)).statusCode).toBe(404);
    expect(await h.ctx.db.selectFrom('contact_notes').select('id').where('contact_id', '=', c.id).execute()).toEqual([]);
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.delete', targetId: c.id, limit: 1 });
    expect(entry).toMatchObject({ actorLabel: 'cli', meta: { reason: 'duplicate', via: 'cli', removed: { contact_notes: 1 } } });
  });

  it('previews a bulk action, runs it with --yes behind a progress bar, and prints the report', async () => {
    const t = await h.tenant();
    const slug = await slugOf(h, t);
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'cohort', type: 'text' });
    await api.defineAttribute({ key: 'status', type: 'text' });
    for (let i = 0; i < 3; i++) await api.createContact({ firstName: `B${i}`, lastName: 'Bulk', attributes: { cohort: '2019' } });
    await api.createContact({ firstName: 'Other', lastName: 'Cohort', attributes: { cohort: '2020' } });
    const args = ['bulk', 'update', '--institution', slug, '--attr', 'cohort=2019', '--set-visibility', 'staff_only', '--set-attr', 'status=alumni'];

    const jobs = await h.count('jobs');
    const preview = await runCli(h, args);
    expect(preview).toMatchObject({ code: 0, stdout: '3 contact(s) match; run again with --yes to update them.\n' });
    expect(await h.count('jobs')).toBe(jobs);
    const done = await runCli(h, [...args, '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe('update: 3 changed, 0 unchanged, 0 refused (of 3).\n');
    expect(done.stderr).toMatch(/^Job \S+: update on 3 contact\(s\)\./);
    expect((await api.list('attr.status=alumni&visibility=staff_only')).items).toHaveLength(3);

    const bad = await runCli(h, ['bulk', 'update', '--institution', slug, '--set-visibility', 'secret', '--yes']);
    expect(bad.code).toBe(exitCodes.usage);
    expect(bad.stderr).toContain('--visibility / --set-visibility');
    const archived = await runCli(h, ['bulk', 'archive', '--institution', slug, '--attr', 'cohort=2020', '--yes']);
    expect(archived.stdout).toBe('archive: 1 changed, 0 unchanged, 0 refused (of 1).\n');
    const expunged = await runCli(h, ['bulk', 'expunge', '--institution', slug, '--visibility', 'staff_only', '--no-notify', '--yes']);
    expect(expunged.stdout).toBe('expunge: 4 changed, 0 unchanged, 0 refused (of 4).\n');
    expect(await h.ctx.db.selectFrom('contacts').select('id').where('institution_id', '=', t.institutionId).execute()).toEqual([]);
    expect((await runCli(h, ['bulk', 'approve', '--institution', slug, '--yes'])).code).toBe(exitCodes.notFound);
  });

  it('changes lifecycle settings, a user\'s role, and deletes a user (seed 001)', async () => {
    const t = await h.tenant();
    const slug = await slugOf(h, t);
    const settings = await runCli(h, ['lifecycle-settings', '--institution', slug, '--self-service-delete', 'expunge', '--suppression-list', 'on']);
    expect(JSON.parse(settings.stdout)).toEqual({ selfServiceDelete: 'expunge', suppressionList: true });
    expect((await runCli(h, ['lifecycle-settings', '--institution', slug, '--self-service-delete', 'shred'])).stderr).toContain('--self-service-delete');

    const api = contactsApi(h, t.admin.token);
    await api.call('POST', '/api/roles', { name: 'Denied Access', permissions: ['account.self'] });
    const user = await h.user(t, 'employer_user');
    const limited = await runCli(h, ['user', 'role', user.email, 'denied_access']);
    expect(limited).toMatchObject({ code: 0, stdout: `${user.email} now has the role denied_access.\n` });
    expect((await h.request(user.token, { method: 'GET', url: '/api/contacts' })).statusCode).toBe(403);
    expect((await h.request(user.token, { method: 'GET', url: '/api/me' })).statusCode).toBe(200);
    expect((await runCli(h, ['user', 'role', user.email, 'no_such_role'])).code).toBe(exitCodes.usage);

    expect((await runCli(h, ['user', 'delete', user.email])).code).toBe(exitCodes.usage);
    expect((await runCli(h, ['user', 'delete', user.email, '--yes'])).code).toBe(0);
    expect((await h.request(null, { method: 'POST', url: '/api/session', payload: { email: user.email, password: TEST_PASSWORD } })).statusCode).toBe(401);
    expect((await h.request(user.token, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);
  });
});
