import { describe, expect, it } from 'vitest';
import { useConsole } from './console-setup.ts';

describe('console lifecycle actions in Chromium [sqlite]', () => {
  const env = useConsole({ worker: true });

  it('contact page: archive and disable say what will happen, then restore; delete needs the typed word', async () => {
    const contact = await env.api('POST', '/api/contacts', { firstName: 'Edsger', lastName: 'Dijkstra', email: 'edsger@example.net' });
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('heading', { name: 'Contacts' }).waitFor();
    await p.goto(`${env.base}/contacts/${contact.id}`);
    await p.getByRole('heading', { name: 'Edsger Dijkstra' }).waitFor();
    const state = p.getByTestId('lifecycle-state');
    await expect.poll(() => state.textContent()).toContain('Active');

    await p.getByRole('button', { name: 'Archive', exact: true }).click();
    let dialog = p.getByRole('dialog', { name: 'Archive Edsger Dijkstra?' });
    expect(await dialog.textContent()).toContain('Move to the "Inactive" employer');
    await dialog.getByLabel(/Restrict visibility to staff/).uncheck();
    await dialog.getByRole('button', { name: 'Archive contact' }).click();
    await expect.poll(() => state.textContent()).toContain('Archived');
    let life = await env.api('GET', `/api/contacts/${contact.id}/lifecycle`);
    expect(life).toMatchObject({ archived: true, doNotEmail: true, visibility: 'everyone' });

    await p.getByRole('button', { name: 'Disable', exact: true }).click();
    dialog = p.getByRole('dialog', { name: 'Disable Edsger Dijkstra?' });
    expect(await dialog.textContent()).toContain('hidden from the directory');
    // Escape cancels: nothing changes
    await p.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect((await env.api('GET', `/api/contacts/${contact.id}/lifecycle`)).status).toBe('active');
    await p.getByRole('button', { name: 'Disable', exact: true }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Disable contact' }).click();
    await expect.poll(() => state.textContent()).toContain('Disabled');
    await p.getByRole('button', { name: 'Restore', exact: true }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Restore contact' }).click();
    await expect.poll(() => state.textContent()).toMatch(/^Active/);

    await p.getByRole('button', { name: 'Delete', exact: true }).click();
    dialog = p.getByRole('dialog');
    expect(await dialog.textContent()).toContain('with every record attached');
    const confirm = dialog.getByRole('button', { name: 'Delete contact' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Reason').selectOption('duplicate');
    await dialog.getByLabel('Type DELETE to confirm').fill('DELETE');
    await confirm.click();
    await p.getByRole('heading', { name: 'Contact removed' }).waitFor();
    expect((await env.h.request(env.tenant.admin.token, { method: 'GET', url: `/api/contacts/${contact.id}` })).statusCode).toBeGreaterThanOrEqual(404);
    await p.context().close();
  });

  it('directory: bulk reject of a filtered set shows the preview count, the job progress and its report', async () => {
    await env.api('POST', '/api/attributes', { key: 'cohort', label: 'Cohort', type: 'choice', options: ['2019', '2024'] });
    for (let i = 0; i < 12; i++) {
      await env.api('POST', '/api/contacts', { firstName: `Bulk${i}`, lastName: `Person${i}`, email: `bulk${i}@example.net`, attributes: { cohort: i < 7 ? '2019' : '2024' } });
    }
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByLabel('Cohort').selectOption('2019');
    await expect.poll(() => p.locator('.result-count').textContent()).toMatch(/^7 contacts/);
    await p.getByRole('button', { name: 'Bulk action on these contacts…' }).click();
    const dialog = p.getByRole('dialog', { name: 'Bulk action' });
    await dialog.getByLabel('Action').selectOption('reject');
    await dialog.getByRole('button', { name: 'Preview count' }).click();
    await expect.poll(() => dialog.getByTestId('bulk-preview').textContent()).toContain('7 contacts');
    expect(await dialog.getByTestId('bulk-preview').textContent()).toContain('data frozen');
    await dialog.getByRole('button', { name: 'Reject 7 contacts' }).click();
    const report = p.getByTestId('bulk-report');
    await report.waitFor({ timeout: 20_000 });
    expect(await p.getByRole('dialog').locator('progress').count()).toBe(1);
    expect(await report.textContent()).toMatch(/Changed\s*7/);
    await p.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    // rejected contacts leave the directory; the approval-status filter finds them
    await expect.poll(() => p.locator('.result-count').textContent()).toMatch(/^0 contacts/);
    await p.getByLabel('Approval status').selectOption('rejected');
    await expect.poll(() => p.locator('.result-count').textContent()).toMatch(/^7 contacts/);
    await p.context().close();
  });

  it('keyboard only: a lifecycle dialog opens with Enter, traps focus, confirms, and puts focus on the outcome', async () => {
    const contact = await env.api('POST', '/api/contacts', { firstName: 'Alan', lastName: 'Kay', email: 'alan@example.net', approvalStatus: 'pending' });
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('heading', { name: 'Contacts' }).waitFor();
    await p.goto(`${env.base}/contacts/${contact.id}`);
    const approve = p.getByRole('button', { name: 'Approve', exact: true });
    await approve.focus();
    await p.keyboard.press('Enter');
    const dialog = p.getByRole('dialog', { name: 'Approve this contact?' });
    await dialog.waitFor();
    // focus is inside the dialog: on its first field
    expect(await p.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    expect(await dialog.getByLabel(/^Reason/).evaluate((el) => el === document.activeElement)).toBe(true);
    await p.keyboard.type('Confirmed by phone');
    await p.keyboard.press('Tab'); // Cancel
    await p.keyboard.press('Tab'); // Approve contact
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Approve contact');
    await p.keyboard.press('Enter');
    await expect.poll(() => p.getByTestId('lifecycle-state').textContent()).toContain('Approved');
    // the Approve button is gone: focus lands on the outcome, not on the page body
    await expect.poll(() => p.evaluate(() => document.activeElement?.textContent)).toContain('Approve: done.');
    await p.context().close();
  });
});
