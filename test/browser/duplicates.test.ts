import { describe, expect, it } from 'vitest';
import { useConsole } from './console-setup.ts';

describe('console duplicates in Chromium [sqlite]', () => {
  const env = useConsole({ worker: true });

  it('rule editor: verification on a form with an optional compared field shows the server refusal; requiring it then saves', async () => {
    const form = await env.api('POST', '/api/forms', {
      name: 'Spring fair',
      organizationId: env.tenant.organizationIds[0],
      fields: [
        { field: 'firstName', required: true },
        { field: 'lastName', required: true },
        { field: 'email', required: false },
      ],
    });
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('link', { name: 'Duplicates' }).click();
    await p.getByRole('tab', { name: 'Duplicate rules' }).click();
    const editor = p.getByRole('form', { name: 'Form Spring fair' });
    await editor.getByRole('switch', { name: /Application verification/ }).check();
    await editor.getByRole('button', { name: 'Save form' }).click();
    const refusal = editor.getByTestId('refusal');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/bypass/i);
    expect((await env.api('GET', `/api/forms/${form.id}`)).verificationEnabled).toBe(false);

    await editor.getByLabel('Email required').check();
    await editor.getByRole('button', { name: 'Save form' }).click();
    await expect.poll(async () => (await env.api('GET', `/api/forms/${form.id}`)).verificationEnabled).toBe(true);

    // the institution rule names the form it would expose
    const institution = p.getByRole('form', { name: 'Institution rule' });
    await institution.getByLabel('Mobile Phone Only').check();
    await institution.getByRole('button', { name: 'Save institution rule' }).click();
    await expect.poll(() => institution.getByTestId('refusal').textContent()).toContain('Spring fair');
    await p.context().close();
  });

  it('possible duplicates: scan, see the score and reason, merge field by field', async () => {
    const a = await env.api('POST', '/api/contacts', { firstName: 'Katherine', lastName: 'Johnson', email: 'kjohnson@nasa.example' });
    const b = await env.api('POST', '/api/contacts', { firstName: 'Katherine', lastName: 'Johnson', email: 'kjohnson@langley.example', mobilePhone: '+1 202 555 0143' });
    await env.api('POST', `/api/contacts/${b.id}/notes`, { body: 'Called about the archive.' });
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('link', { name: 'Duplicates' }).click();
    await p.getByRole('button', { name: 'Scan all contacts now' }).click();
    const queue = p.getByRole('table', { name: 'Possible duplicates' });
    await queue.waitFor({ timeout: 20_000 });
    expect(await queue.textContent()).toMatch(/\d+%/);
    expect(await queue.textContent()).toContain('same email name at another domain');
    await queue.getByRole('link', { name: 'Compare and merge' }).first().click();
    await p.getByRole('heading', { name: 'Merge contacts' }).waitFor();
    const [keep, merged] = new URL(p.url()).pathname.split('/').slice(-2);
    const otherEmail = merged === b.id ? 'kjohnson@langley.example' : 'kjohnson@nasa.example';
    await p.getByRole('radio', { name: `Email: keep ${otherEmail}` }).check();
    await p.getByRole('button', { name: 'Merge', exact: true }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Merge contacts' }).click();
    await p.getByRole('heading', { name: 'Katherine Johnson' }).waitFor();
    expect(new URL(p.url()).pathname).toBe(`/contacts/${keep}`);
    const survivor = await env.api('GET', `/api/contacts/${keep}`);
    expect(survivor.email).toBe(otherEmail);
    expect(survivor.mobilePhone).not.toBeNull(); // filled from the other where the survivor had none
    expect((await env.api('GET', `/api/contacts/${keep}/notes`)).items).toHaveLength(1);
    expect((await env.h.request(env.tenant.admin.token, { method: 'GET', url: `/api/contacts/${merged}` })).statusCode).toBe(404);
    expect([a.id, b.id]).toContain(keep);
    await p.context().close();
  });
});
