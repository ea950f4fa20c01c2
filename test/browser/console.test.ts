import { describe, expect, it } from 'vitest';
import { useConsole } from './console-setup.ts';
import { TEST_PASSWORD } from '../support/harness.ts';

describe('web console in Chromium [sqlite]', () => {
  const env = useConsole();
  const page = () => env.page();

  it('serves the console at / and keeps /api answers as problem+json', async () => {
    const root = await fetch(`${env.base}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('<div id="root">');
    const deep = await fetch(`${env.base}/contacts/whatever`);
    expect(deep.headers.get('content-type')).toContain('text/html');
    const missing = await fetch(`${env.base}/api/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('signs in, and shows a switched-off user "You do not have access to this site."', async () => {
    const off = await env.h.user(env.tenant, 'staff');
    await env.api('POST', `/api/users/${off.id}/access`, { enabled: false });
    const p = await page();
    await env.signIn(p, off.email);
    await expect.poll(() => p.getByRole('alert').textContent()).toContain('You do not have access to this site.');
    await p.getByLabel('Password').fill('wrong password entirely');
    await p.getByLabel('Email').fill(env.tenant.adminEmail);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => p.getByRole('alert').textContent()).not.toContain('You do not have access');
    await p.getByLabel('Password').fill(TEST_PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Contacts' }).waitFor();
    expect(new URL(p.url()).pathname).toBe('/contacts');
    await p.context().close();
  });

  it('directory: filters on approval status and a custom attribute, searches, and pages with the cursor', async () => {
    await env.api('POST', '/api/attributes', { key: 'level', label: 'Level', type: 'choice', options: ['junior', 'senior'] });
    for (let i = 0; i < 130; i++) {
      await env.api('POST', '/api/contacts', {
        firstName: `Person${String(i).padStart(3, '0')}`,
        lastName: i === 7 ? 'Quixotica' : `Family${String(i).padStart(3, '0')}`,
        email: `person${i}@example.net`,
        approvalStatus: i % 10 === 0 ? 'pending' : 'approved',
        attributes: { level: i % 2 === 0 ? 'senior' : 'junior' },
      });
    }
    const p = await page();
    await env.signIn(p, env.tenant.adminEmail);
    const rows = p.getByTestId('contact-rows').getByRole('row');
    const count = p.locator('.result-count');
    await expect.poll(() => count.textContent()).toContain('100+ contacts');
    // virtualised: far fewer rows in the DOM than loaded
    expect(await rows.count()).toBeLessThan(60);
    await p.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => count.textContent()).toMatch(/^130 contacts/);

    await p.getByLabel('Approval status').selectOption('pending');
    await expect.poll(() => count.textContent()).toMatch(/^13 contacts/);
    await p.getByLabel('Level').selectOption('senior');
    await expect.poll(() => count.textContent()).toMatch(/^13 contacts/); // every tenth is even
    await p.getByLabel('Approval status').selectOption('');
    await expect.poll(() => count.textContent()).toMatch(/^65 contacts/);
    await p.getByLabel('Level').selectOption('');

    await p.getByLabel('Search').fill('Quixotica');
    await expect.poll(() => count.textContent()).toMatch(/^1 contact\b/);
    expect(await rows.first().textContent()).toContain('Quixotica, Person007');
    // no PII in the URL
    expect(p.url()).not.toContain('Quixotica');
    await p.context().close();
  });

  it('contact page: profile, timeline, and adding a note', async () => {
    const contact = await env.api('POST', '/api/contacts', { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.net', authorizations: { marketing_email: true } });
    const p = await page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByLabel('Search').fill('Lovelace');
    await p.getByRole('link', { name: 'Lovelace, Ada' }).click();
    await p.getByRole('heading', { name: 'Ada Lovelace' }).waitFor();
    expect(new URL(p.url()).pathname).toBe(`/contacts/${contact.id}`);
    expect(await p.locator('.facts').textContent()).toContain('ada@example.net');
    expect(await p.getByRole('table').first().textContent()).toContain('Marketing email');
    await expect.poll(() => p.getByRole('list', { name: 'Activity timeline' }).locator('li').count()).toBeGreaterThan(0);
    const before = await p.getByRole('list', { name: 'Activity timeline' }).locator('li').count();

    await p.getByLabel('New note').fill('Met at the spring fair; prefers email.');
    await p.getByRole('button', { name: 'Add note' }).click();
    await p.getByRole('list', { name: 'Notes' }).getByText('Met at the spring fair; prefers email.').waitFor();
    await expect.poll(() => p.getByRole('list', { name: 'Activity timeline' }).locator('li').count()).toBeGreaterThan(before);
    const notes = await env.api('GET', `/api/contacts/${contact.id}/notes`);
    expect(notes.items.map((n: { body: string }) => n.body)).toContain('Met at the spring fair; prefers email.');

    // an empty note is refused with the message next to the field
    await p.getByRole('button', { name: 'Add note' }).click();
    await p.locator('.field-error').first().waitFor();

    // rejecting asks first and says what will happen
    await p.getByRole('button', { name: 'Reject', exact: true }).click();
    const dialog = p.getByRole('dialog');
    expect(await dialog.textContent()).toContain('will leave the directory');
    await dialog.getByRole('button', { name: 'Reject contact' }).click();
    await expect.poll(() => p.locator('.facts').textContent()).toContain('Rejected');
    await p.context().close();
  });

  it('users: switching a user off from the users screen stops them signing in; the audit viewer lists it', async () => {
    const target = await env.h.user(env.tenant, 'staff');
    const p = await page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('link', { name: 'Users' }).click();
    await p.getByRole('switch', { name: new RegExp(`${target.email.split('@')[0]} can access this site`) }).click();
    const dialog = p.getByRole('dialog');
    expect(await dialog.textContent()).toContain('You do not have access to this site.');
    await dialog.getByRole('button', { name: 'Switch access off' }).click();
    await expect.poll(() => p.getByRole('switch', { name: new RegExp(`${target.email.split('@')[0]} can access`) }).getAttribute('aria-checked')).toBe('false');

    const other = await page();
    await env.signIn(other, target.email);
    await expect.poll(() => other.getByRole('alert').textContent()).toContain('You do not have access to this site.');
    await other.context().close();

    await p.getByRole('link', { name: 'Audit log' }).click();
    await p.getByLabel('Action').fill('user.access_disabled');
    await expect.poll(() => p.getByRole('table', { name: 'Audit entries' }).locator('tbody tr').count()).toBe(2); // this one and the first test's
    await p.getByLabel('Target id').fill(target.id);
    const table = p.getByRole('table', { name: 'Audit entries' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect(await table.textContent()).toContain(target.id);
    await table.getByRole('button', { name: 'Details' }).click();
    expect(await table.textContent()).toContain('"siteAccess": false');
    await p.context().close();
  });

  it('roles: creates a custom role, then deletes a user after typing the confirmation', async () => {
    const doomed = await env.h.user(env.tenant, 'staff');
    const p = await page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('link', { name: 'Roles' }).click();
    await p.getByRole('button', { name: 'New custom role' }).click();
    await p.getByLabel('Role name').fill('Denied access');
    await p.getByRole('button', { name: 'Create role' }).click();
    await p.getByRole('table', { name: 'Roles' }).getByText('Denied access').waitFor();
    const roles = await env.api('GET', '/api/roles');
    expect(roles.items.find((r: { name: string }) => r.name === 'Denied access').permissions).toEqual(['account.self']);

    await p.getByRole('link', { name: 'Users' }).click();
    const row = p.locator(`tr[data-user="${doomed.email}"]`);
    await row.getByRole('button', { name: 'Delete' }).click();
    const dialog = p.getByRole('dialog');
    const confirm = dialog.getByRole('button', { name: 'Delete user' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Type DELETE to confirm').fill('DELETE');
    await confirm.click();
    await expect.poll(() => row.count()).toBe(0);
    expect((await env.h.request(env.tenant.admin.token, { method: 'GET', url: `/api/users/${doomed.id}` })).statusCode).toBe(404);
    await p.context().close();
  });

  it('outbox and jobs screens load', async () => {
    const p = await page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('link', { name: 'Outbox' }).click();
    await p.getByRole('heading', { name: 'Outbox' }).waitFor();
    await p.getByText('No SMTP server is configured').waitFor();
    await p.getByRole('link', { name: 'Jobs' }).click();
    await p.getByRole('heading', { name: 'Background jobs' }).waitFor();
    await p.context().close();
  });

  it('public apply page: a duplicate application asks for the emailed code, and the code merges it', async () => {
    const form = await env.api('POST', '/api/forms', {
      name: 'Graduate programme',
      organizationId: env.tenant.organizationIds[0],
      fields: [
        { field: 'firstName', required: true },
        { field: 'lastName', required: true },
        { field: 'email', required: true },
        { field: 'mobilePhone', required: false },
      ],
      verificationEnabled: true,
    });
    await env.api('POST', '/api/contacts', { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.net' });
    const context = await env.browser.newContext({ viewport: { width: 390, height: 800 } });
    const p = await context.newPage();
    await p.goto(`${env.base}/apply/${form.id}`);
    await p.getByRole('heading', { name: 'Graduate programme' }).waitFor();
    expect(await p.getByLabel('Mobile phone (optional)').count()).toBe(1);
    await p.getByRole('button', { name: 'Apply' }).click();
    await p.locator('.field-error').first().waitFor();
    await p.getByLabel('First name').fill('Grace');
    await p.getByLabel('Last name').fill('Hopper');
    await p.getByLabel('Email').fill('grace@example.net');
    await p.getByRole('button', { name: 'Apply' }).click();
    await p.getByLabel('Verification code').waitFor();
    const outbox = await env.api('GET', '/api/outbox');
    const code = /\b(\d{6})\b/.exec(outbox.items.find((m: { to: string | null }) => m.to === 'grace@example.net').text)![1];
    await p.getByLabel('Verification code').fill(code);
    await p.getByRole('button', { name: 'Verify' }).click();
    await p.locator('.alert-success').waitFor();
    expect(p.url()).not.toContain('grace');
    await context.close();
  });
});
