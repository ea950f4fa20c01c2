import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useConsole } from './console-setup.ts';

describe('console imports in Chromium [sqlite]', () => {
  const env = useConsole({ worker: true });

  it('uploads a CSV, maps columns by name with one override, shows progress and offers the error report', async () => {
    await env.api('POST', '/api/attributes', { key: 'cohort', label: 'Cohort', type: 'text' });
    const rows = ['Given name,Surname,E-mail,Year,Notes'];
    for (let i = 0; i < 40; i++) rows.push(`Imported${i},Family${i},imported${i}@example.net,${2000 + (i % 5)},note ${i}`);
    rows.push('NoLast,,nolast@example.net,2001,x'); // row 42: no last name
    rows.push('Bad,Email,not-an-email,2002,y'); // row 43: bad email
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('link', { name: 'Imports' }).click();
    await p.getByRole('heading', { name: 'Imports', exact: true }).waitFor();
    await p.getByLabel('CSV file').setInputFiles({ name: 'fair-2026.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n') + '\n') });

    const mapping = p.getByRole('table', { name: 'Column mapping' });
    await mapping.waitFor();
    // automatic by name, as the server does it
    expect(await p.getByLabel('Import column Given name as').inputValue()).toBe('firstName');
    expect(await p.getByLabel('Import column Surname as').inputValue()).toBe('lastName');
    expect(await p.getByLabel('Import column E-mail as').inputValue()).toBe('email');
    expect(await p.getByLabel('Import column Year as').inputValue()).toBe('');
    // overridable
    await p.getByLabel('Import column Year as').selectOption('attr:cohort');
    await p.getByRole('button', { name: 'Import' }).click();

    const progress = p.getByTestId('import-progress');
    await progress.waitFor();
    expect(await progress.locator('progress').count()).toBe(1);
    await expect.poll(() => progress.getByTestId('import-summary').textContent(), { timeout: 20_000 }).toMatch(/Created\s*40.*Invalid rows\s*2/s);
    expect(await progress.getByRole('status').textContent()).toContain('42 of 42 rows');

    const [download] = await Promise.all([p.waitForEvent('download'), progress.getByRole('link', { name: 'Download the error report' }).click()]);
    const report = fs.readFileSync((await download.path())!, 'utf8');
    expect(report.split(/\r?\n/)[0]).toBe('row,field,message');
    expect(report).toMatch(/^42,lastName,/m);
    expect(report).toMatch(/^43,email,/m);

    const imported = await env.api('GET', '/api/contacts?q=Imported7');
    const contact = await env.api('GET', `/api/contacts/${imported.items[0].id}`);
    expect(contact.attributes.cohort).toBe('2002');
    await p.context().close();
  });
});
