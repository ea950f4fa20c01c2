import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useConsole } from './console-setup.ts';

const PHONE = { width: 390, height: 800 };

describe('public self-service pages in Chromium [sqlite]', () => {
  const env = useConsole();

  async function lastMailTo(address: string): Promise<string> {
    const outbox = await env.api('GET', '/api/outbox');
    const message = outbox.items.find((m: { to: string | null }) => m.to === address);
    expect(message, `no mail to ${address}`).toBeTruthy();
    return message.text as string;
  }

  async function slug(): Promise<string> {
    return (await env.api('GET', '/api/institution')).slug;
  }

  function noPiiInUrl(p: Page, ...values: string[]) {
    for (const v of values) expect(decodeURIComponent(p.url())).not.toContain(v);
  }

  it('Delete Account: the contact signs in with the emailed code on a phone, deletes the account, and is soft-deleted', async () => {
    const contact = await env.api('POST', '/api/contacts', { firstName: 'Hedy', lastName: 'Lamarr', email: 'hedy@example.net' });
    const p = await env.page(PHONE);
    await p.goto(`${env.base}/profile/${await slug()}`);
    await p.getByRole('heading', { name: 'Your profile' }).waitFor();
    await p.getByLabel('Email address').fill('hedy@example.net');
    await p.getByLabel('Email address').press('Enter'); // keyboard only
    await p.getByLabel('Code from the email').waitFor();
    const code = /\b(\d{6})\b/.exec(await lastMailTo('hedy@example.net'))![1];
    await p.getByLabel('Code from the email').fill(code);
    await p.getByRole('button', { name: 'Open my profile' }).click();
    await p.getByRole('heading', { name: 'Hedy Lamarr' }).waitFor();
    noPiiInUrl(p, 'hedy@example.net', 'Lamarr');
    // usable at phone width: nothing wider than the screen
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);

    await p.getByRole('button', { name: 'Delete Account' }).click();
    const dialog = p.getByRole('dialog', { name: 'Delete your account?' });
    expect(await dialog.textContent()).toContain('the organisation can restore it');
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await p.getByRole('heading', { name: 'Your account is deleted' }).waitFor();

    const lifecycle = await env.api('GET', `/api/contacts/${contact.id}/lifecycle`);
    expect(lifecycle.status).toBe('disabled');
    // the session ended with it
    await p.reload();
    await p.getByLabel('Email address').waitFor();
    await p.context().close();
  });

  it('the magic link in the code email opens the profile, and leaves the address bar clean', async () => {
    await env.api('POST', '/api/contacts', { firstName: 'Radia', lastName: 'Perlman', email: 'radia@example.net' });
    const s = await slug();
    const p = await env.page(PHONE);
    await p.goto(`${env.base}/profile/${s}`);
    await p.getByLabel('Email address').fill('radia@example.net');
    await p.getByRole('button', { name: 'Send me a code' }).click();
    await p.getByLabel('Code from the email').waitFor();
    const token = /#link=([^\s]+)/.exec(await lastMailTo('radia@example.net'))![1];
    const other = await env.page(PHONE);
    await other.goto(`${env.base}/profile/${s}#link=${token}`);
    await other.getByRole('heading', { name: 'Radia Perlman' }).waitFor();
    expect(other.url()).not.toContain(token);
    await other.context().close();
    await p.context().close();
  });

  it('download my data: the code step then says the one-time link is on its way', async () => {
    await env.api('POST', '/api/contacts', { firstName: 'Barbara', lastName: 'Liskov', email: 'barbara@example.net' });
    const p = await env.page(PHONE);
    await p.goto(`${env.base}/my-data/${await slug()}`);
    await p.getByRole('heading', { name: 'Get a copy of your data' }).waitFor();
    await p.getByLabel('Email address').fill('barbara@example.net');
    await p.getByRole('button', { name: 'Send me a code' }).click();
    await p.getByLabel('Code from the email').waitFor();
    await p.getByLabel('Code from the email').fill('000000');
    await p.getByRole('button', { name: 'Send me my data' }).click();
    await p.locator('.field-error, .alert-error').first().waitFor();
    const code = /\b(\d{6})\b/.exec(await lastMailTo('barbara@example.net'))![1];
    await p.getByLabel('Code from the email').fill(code);
    await p.getByRole('button', { name: 'Send me my data' }).click();
    await p.locator('.alert-success').waitFor();
    noPiiInUrl(p, 'barbara@example.net');
    await p.context().close();
  });

  it('where staff chose expunge, Delete Account says so, asks to type DELETE, and erases the contact', async () => {
    const staff = await env.page();
    await env.signIn(staff, env.tenant.adminEmail);
    await staff.getByRole('link', { name: 'Privacy settings' }).click();
    // the radio changes only once confirmed
    await staff.getByLabel(/^Expunge: erase the contact permanently/).click();
    await staff.getByRole('dialog').getByRole('button', { name: 'Change setting' }).click();
    await expect.poll(async () => (await env.api('GET', '/api/lifecycle/settings')).selfServiceDelete).toBe('expunge');
    await staff.context().close();

    const contact = await env.api('POST', '/api/contacts', { firstName: 'Ada', lastName: 'Byron', email: 'ada.byron@example.net' });
    const p = await env.page(PHONE);
    await p.goto(`${env.base}/profile/${await slug()}`);
    await p.getByLabel('Email address').fill('ada.byron@example.net');
    await p.getByRole('button', { name: 'Send me a code' }).click();
    await p.getByLabel('Code from the email').fill(/\b(\d{6})\b/.exec(await lastMailTo('ada.byron@example.net'))![1]);
    await p.getByRole('button', { name: 'Open my profile' }).click();
    await p.getByRole('button', { name: 'Delete Account' }).click();
    const dialog = p.getByRole('dialog', { name: 'Delete your account?' });
    expect(await dialog.textContent()).toContain('erased permanently');
    await dialog.getByLabel('Type DELETE to confirm').fill('DELETE');
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await p.getByText('Your data has been erased permanently.').waitFor();
    expect((await env.h.request(env.tenant.admin.token, { method: 'GET', url: `/api/contacts/${contact.id}` })).statusCode).toBeGreaterThanOrEqual(404);
    await p.context().close();
  });
});
