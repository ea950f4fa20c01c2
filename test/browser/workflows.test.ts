import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { useConsole } from './console-setup.ts';

/** The message the server gave for a control: the element its aria-describedby names first. */
async function messageFor(p: Page, control: Locator): Promise<string> {
  await expect.poll(() => control.getAttribute('aria-invalid')).toBe('true');
  const id = (await control.getAttribute('aria-describedby'))!.split(' ')[0];
  return (await p.locator(`[id="${id}"]`).textContent()) ?? '';
}

describe('console workflows in Chromium [sqlite]', () => {
  const env = useConsole({ worker: true });

  it("seed 000 template: reviewed, created as version 1; an invalid step shows the server's message beside it; fixed, saved as version 2; a contact's run shows on its page", async () => {
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workflows' }).click();
    await p.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
    await p.getByText('No workflows yet.').waitFor();
    await p.getByRole('link', { name: 'Start from the seed 000 template' }).click();
    await p.getByRole('heading', { name: 'New workflow from the seed 000 template' }).waitFor();

    // The template is a draft to review: trigger, four steps, nothing saved yet.
    await expect.poll(() => p.locator('.step-list > li').count()).toBe(4);
    expect(await p.getByLabel('Name', { exact: true }).inputValue()).toBe('Opt in or be erased after 30 days');
    expect(await p.getByLabel('Enroll a contact when').inputValue()).toBe('contact_created');
    const createdBy = p.getByRole('group', { name: 'Created by' });
    expect(await createdBy.getByLabel('Bulk import', { exact: true }).isChecked()).toBe(true);
    expect(await createdBy.getByLabel('Created by staff', { exact: true }).isChecked()).toBe(true);
    expect(await createdBy.getByLabel('API', { exact: true }).isChecked()).toBe(false);
    const email = p.getByRole('group', { name: 'Step 1: Send email' });
    expect(await email.getByLabel('Subject', { exact: true }).inputValue()).toBe('{{institution}}: do you want us to keep your profile?');
    const wait = p.getByRole('group', { name: 'Step 2: Wait' });
    expect(await wait.getByLabel('Days').inputValue()).toBe('30');
    const condition = p.getByRole('group', { name: 'Step 3: Condition' });
    expect(await condition.getByLabel('When it holds, go to').inputValue()).toBe('end');
    expect(await p.getByRole('group', { name: 'Step 4: Expunge' }).getByLabel('Email the contact a confirmation that their data was erased').isChecked()).toBe(true);
    expect((await env.api('GET', '/api/workflows')).items).toHaveLength(0);

    await p.getByRole('button', { name: 'Create workflow' }).click();
    const dialog = p.getByRole('dialog', { name: 'Create and start this workflow?' });
    const said = await dialog.textContent();
    expect(said).toContain('A contact is created (Bulk import, Created by staff)');
    expect(said).toContain('Wait 30 days');
    expect(said).toContain('erased for good');
    await dialog.getByRole('button', { name: 'Create workflow' }).click();
    await expect.poll(() => p.getByTestId('workflow-version').textContent()).toBe('Version 1');
    await p.getByText('Created as version 1, and active').waitFor();
    const workflowId = new URL(p.url()).pathname.split('/').pop()!;
    expect((await env.api('GET', `/api/workflows/${workflowId}`)).version).toBe(1);

    // An invalid wait: the server's message sits beside the field, and nothing is saved.
    const days = p.getByRole('group', { name: 'Step 2: Wait' }).getByLabel('Days');
    await days.fill('-5');
    await p.getByRole('group', { name: 'Created by' }).getByLabel('API', { exact: true }).check();
    await p.getByRole('button', { name: 'Save as version 2' }).click();
    expect(await messageFor(p, days)).toContain('>=0');
    expect(await p.getByRole('alert').filter({ hasText: 'Some fields need attention' }).count()).toBe(1);
    expect((await env.api('GET', `/api/workflows/${workflowId}`)).version).toBe(1);

    // Fixed: saved as version 2.
    await days.fill('14');
    await p.getByRole('button', { name: 'Save as version 2' }).click();
    await expect.poll(() => p.getByTestId('workflow-saved').textContent()).toContain('Saved as version 2.');
    expect(await days.getAttribute('aria-invalid')).toBeNull();
    await expect.poll(() => p.getByTestId('workflow-version').textContent()).toBe('Version 2');
    const saved = await env.api('GET', `/api/workflows/${workflowId}`);
    expect(saved.version).toBe(2);
    expect(saved.definition.steps[1].wait).toEqual({ days: 14 });
    expect(saved.definition.trigger).toEqual({ type: 'contact_created', sources: ['bulk_import', 'manual', 'api'] });
    expect(await p.getByRole('button', { name: 'Save as version 3' }).isDisabled()).toBe(true);

    // A contact created through the API is enrolled in version 2; the worker sends the opt-in email; its page shows the run.
    const contact = await env.api('POST', '/api/contacts', { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.net' });
    // The email goes, then the wait of version 2 (14 days, not the template's 30) holds the run before the opt-in check.
    await expect
      .poll(async () => (await env.api('GET', `/api/contacts/${contact.id}/workflow-runs`)).items[0]?.stepId, { timeout: 15_000 })
      .toBe('opted_in');
    const [apiRun] = (await env.api('GET', `/api/contacts/${contact.id}/workflow-runs`)).items;
    expect(Date.parse(apiRun.nextRunAt) - Date.parse(apiRun.createdAt)).toBe(14 * 86_400_000);
    await p.goto(`${env.base}/contacts/${contact.id}`);
    const runs = p.getByTestId('contact-workflow-runs');
    await runs.getByRole('heading', { name: 'Workflow runs' }).waitFor();
    const run = runs.locator('li[data-run]');
    await expect.poll(() => run.count()).toBe(1);
    const heading = await run.getByRole('heading', { level: 3 }).textContent();
    expect(heading).toBe('Opt in or be erased after 30 daysversion 2Running');
    expect(await run.textContent()).toMatch(/Next stepopted_in at /);
    await run.getByText('Step history (2)').click();
    const history = await run.getByRole('list', { name: 'Step history of Opt in or be erased after 30 days' }).textContent();
    expect(history).toMatch(/ask_opt_in \(Send email\): done — email queued \(marketing\)/);
    expect(history).toMatch(/grace_period \(Wait\): done — waiting until/);

    // The workflow's own list of runs names the contact, and the list of workflows counts the run.
    await run.getByRole('link', { name: 'Opt in or be erased after 30 days' }).click();
    const table = p.getByRole('table', { name: 'Workflow runs' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect(await table.locator('tbody tr').first().textContent()).toMatch(/Contact .{8}2Runningopted_in at /);
    await table.getByRole('button', { name: 'History' }).click();
    await expect.poll(() => table.getByRole('list', { name: 'Step history' }).textContent()).toMatch(/ask_opt_in \(Send email\): done/);
    await p.getByRole('link', { name: '← Workflows' }).click();
    const row = p.getByRole('table', { name: 'Workflows' }).locator(`tr[data-workflow="${workflowId}"]`);
    await expect.poll(() => row.locator('td').allTextContents()).toEqual([
      'Opt in or be erased after 30 days',
      'A contact is created (Bulk import, Created by staff, API)',
      '2',
      'Active',
      '1 (1 running)',
      expect.any(String),
    ]);
    await p.context().close();
  });

  it('keyboard: steps are added, moved and removed with the keyboard, focus follows the moved step, and the server names a step by its new place', async () => {
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('heading', { name: 'Contacts' }).waitFor();
    await p.goto(`${env.base}/workflows/new`);
    await p.getByRole('heading', { name: 'New workflow', level: 1 }).waitFor();
    await p.getByLabel('Name', { exact: true }).fill('Keyboard made');

    // Add a wait, then a staff notice, from the keyboard only.
    await p.getByLabel('Kind of step to add').focus();
    await p.getByLabel('Kind of step to add').selectOption('wait');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Enter');
    await p.getByRole('group', { name: 'Step 1: Wait' }).waitFor();
    await p.getByLabel('Kind of step to add').selectOption('notify_staff');
    await p.getByLabel('Kind of step to add').focus();
    await p.keyboard.press('Tab');
    await p.keyboard.press('Enter');
    const notice = p.getByRole('group', { name: 'Step 2: Notify staff' });
    await notice.waitFor();
    // focus went to the new step's first field (its id)
    expect(await p.evaluate(() => document.activeElement?.closest('[data-step-key]')?.querySelector('legend')?.textContent)).toBe('Step 2: Notify staff');
    await notice.getByLabel('Staff addresses').fill('nobody@elsewhere.example');
    await notice.getByLabel('Subject', { exact: true }).fill('Check {{fullName}}');
    await notice.getByLabel('Message').fill('Please look at {{contactId}}.');

    // Move the notice up with Enter: it becomes step 1 and keeps the focus.
    await p.getByRole('button', { name: 'Move step 2 up' }).focus();
    await p.keyboard.press('Enter');
    await p.getByRole('group', { name: 'Step 1: Notify staff' }).waitFor();
    expect(await p.evaluate(() => document.activeElement?.closest('[data-step-key]')?.querySelector('legend')?.textContent)).toBe('Step 1: Notify staff');
    expect(await p.evaluate(() => document.activeElement?.textContent)).toContain('Down');

    // The server refuses the unknown address, naming steps[0]: the message shows beside the field of step 1.
    await p.getByRole('button', { name: 'Create workflow' }).click();
    await p.getByRole('dialog', { name: 'Create and start this workflow?' }).getByRole('button', { name: 'Create workflow' }).click();
    const addresses = p.getByRole('group', { name: 'Step 1: Notify staff' }).getByLabel('Staff addresses');
    expect(await messageFor(p, addresses)).toBe('nobody@elsewhere.example is not the address of a user of this institution');
    expect((await env.api('GET', '/api/workflows')).items.map((w: { name: string }) => w.name)).not.toContain('Keyboard made');

    // Remove the notice from the keyboard: focus goes to the kind-of-step picker; then it saves.
    await p.getByRole('button', { name: 'Remove step 1' }).focus();
    await p.keyboard.press('Enter');
    await expect.poll(() => p.locator('.step-list > li').count()).toBe(1);
    expect(await p.evaluate(() => document.activeElement?.id)).toBe('add-step-type');
    await p.getByRole('button', { name: 'Create workflow' }).click();
    await p.getByRole('dialog', { name: 'Create and start this workflow?' }).getByRole('button', { name: 'Create workflow' }).click();
    await expect.poll(() => p.getByTestId('workflow-version').textContent()).toBe('Version 1');
    expect(await p.getByRole('heading', { level: 1 }).textContent()).toBe('Keyboard made');

    // Pause says what it holds; resume lets it run again.
    await p.getByRole('button', { name: 'Pause', exact: true }).click();
    const pause = p.getByRole('dialog', { name: 'Pause this workflow?' });
    expect(await pause.textContent()).toContain('No step runs and no trigger enrolls anyone until you resume it.');
    await pause.getByRole('button', { name: 'Pause workflow' }).click();
    await expect.poll(() => p.getByTestId('workflow-status').textContent()).toBe('Paused');
    const id = new URL(p.url()).pathname.split('/').pop()!;
    expect((await env.api('GET', `/api/workflows/${id}`)).status).toBe('paused');
    await p.getByRole('button', { name: 'Resume', exact: true }).click();
    await expect.poll(() => p.getByTestId('workflow-status').textContent()).toBe('Active');
    await p.context().close();
  });
});
