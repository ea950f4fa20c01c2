import { describe, expect, it } from 'vitest';
import { createPlatformUser } from '../../src/access/users.ts';
import { systemActor } from '../../src/audit/audit-log.ts';
import { useConsole } from './console-setup.ts';

describe('console exports in Chromium [sqlite]', () => {
  const env = useConsole({ worker: true });

  it('requests a team export, the CSM approves it, the requester downloads it once, a second download is refused', async () => {
    for (let i = 0; i < 5; i++) await env.api('POST', '/api/contacts', { firstName: `Export${i}`, lastName: `Person${i}`, email: `export${i}@example.net` });
    const csmEmail = 'csm-person@lethe-platform.example';
    const csm = await createPlatformUser(env.h.ctx, { email: csmEmail, name: 'Casey CSM', password: 'platform staff passphrase', platformRole: 'csm' }, systemActor);
    const team = env.tenant.organizationIds[0];
    await env.api('PATCH', `/api/organizations/${team}`, { csmUserId: csm.id });

    // the team admin asks
    const requester = await env.page();
    await env.signIn(requester, env.tenant.adminEmail);
    await requester.getByRole('link', { name: 'Exports' }).click();
    await requester.getByLabel('Team', { exact: true }).selectOption(team);
    await requester.getByRole('button', { name: 'Send the request' }).click();
    // a reason is required: the field says so and nothing is recorded
    await requester.locator('.field-error').first().waitFor();
    await requester.getByLabel('Reason').fill('We are moving our candidates to the new regional office.');
    await requester.getByRole('button', { name: 'Send the request' }).click();
    await expect.poll(() => requester.getByTestId('request-outcome').textContent()).toContain("customer-success manager");

    // the CSM approves, acting in the tenant
    const approver = await env.page();
    await env.signIn(approver, csmEmail, 'platform staff passphrase');
    await approver.getByRole('heading', { name: 'Choose an institution' }).waitFor();
    await approver.getByRole('button', { name: /^Act in / }).click();
    await approver.getByRole('link', { name: 'Exports' }).click();
    const queue = approver.getByRole('table', { name: 'Exports' });
    await queue.getByRole('button', { name: 'Approve' }).click();
    const dialog = approver.getByRole('dialog');
    expect(await dialog.textContent()).toContain('downloads it once');
    await dialog.getByRole('button', { name: 'Approve export' }).click();
    await approver.getByText('No request is awaiting approval.').waitFor();
    await approver.context().close();

    // the requester downloads it, once
    await requester.reload();
    const download = requester.getByRole('button', { name: 'Download once' });
    await download.waitFor({ timeout: 20_000 });
    const [tokenRequest, file] = await Promise.all([requester.waitForRequest(/\/exports\/download\//), requester.waitForEvent('download'), download.click()]);
    expect(file.suggestedFilename()).toMatch(/\.zip$/);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync((await file.path())!).subarray(0, 2).toString()).toBe('PK');
    await requester.getByText('the link cannot be used again').waitFor();
    await expect.poll(() => requester.getByRole('table', { name: 'Exports' }).textContent()).toMatch(/File destroyed.*Downloaded /);
    expect(await requester.getByRole('button', { name: 'Download once' }).count()).toBe(0);

    // the same link a second time: refused
    const again = await fetch(tokenRequest.url(), { method: 'POST' });
    expect(again.status).toBe(410);
    const page = await fetch(tokenRequest.url());
    expect(await page.text()).toContain('already used or has expired');
    await requester.context().close();
  });

  it("self-serve: exports the directory's filtered set and downloads it once", async () => {
    await env.api('POST', '/api/contacts', { firstName: 'Selfserve', lastName: 'Zeta', email: 'zeta@example.net' });
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByLabel('Search').fill('Zeta');
    await expect.poll(() => p.locator('.result-count').textContent()).toMatch(/^1 contact\b/);
    await p.getByRole('link', { name: 'Exports' }).click();
    const form = p.getByRole('form', { name: 'Export contacts yourself' });
    expect(await form.getByLabel('What to export').textContent()).toContain('a search');
    await form.getByLabel('Format').selectOption('json');
    await form.getByRole('button', { name: 'Export' }).click();
    const download = p.getByRole('button', { name: 'Download once' });
    await download.waitFor({ timeout: 20_000 });
    const [file] = await Promise.all([p.waitForEvent('download'), download.click()]);
    expect(file.suggestedFilename()).toMatch(/\.zip$/);
    await p.getByText('the link cannot be used again').waitFor();
    const exports = await env.api('GET', '/api/exports?kind=self_serve');
    expect(exports.items[0]).toMatchObject({ rowCount: 1, format: 'json' });
    await p.context().close();
  });
});
