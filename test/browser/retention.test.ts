import { describe, expect, it } from 'vitest';
import { sale } from '../../src/retention/test-support.ts';
import { useConsole } from './console-setup.ts';

const YEAR = 365 * 86_400_000;

describe('console retention batch in Chromium [sqlite]', () => {
  const env = useConsole({ worker: true });

  it('simulates with the histogram and per-organization table, executes only after the typed phrase, and lists the completed run with its counts', async () => {
    const [careerServices, alumni] = env.tenant.organizationIds;
    // Four contacts last active four years ago (the clock moved back while they are created), two recent ones.
    const now = env.h.clock.now();
    const longAgo = new Date(now.getTime() - 4 * YEAR);
    env.h.clock.set(longAgo);
    const prospects: string[] = [];
    for (const [i, organizationId] of [careerServices, careerServices, alumni].entries()) {
      prospects.push((await env.api('POST', '/api/contacts', { firstName: `Prospero${i}`, lastName: 'Old', email: `prospero${i}@old.example`, organizationId })).id);
    }
    const buyer = (await env.api('POST', '/api/contacts', { firstName: 'Bertha', lastName: 'Buyer', email: 'bertha@old.example', organizationId: alumni })).id;
    await env.api('POST', '/api/ticketing/orders', sale(buyer, 'ORD-OLD', longAgo.toISOString(), { organizationId: alumni }));
    env.h.clock.set(now);
    const recent = [
      (await env.api('POST', '/api/contacts', { firstName: 'Rita', lastName: 'Recent', organizationId: careerServices })).id,
      (await env.api('POST', '/api/contacts', { firstName: 'Rudi', lastName: 'Recent', organizationId: alumni })).id,
    ];

    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Retention' }).click();
    await p.getByRole('heading', { name: 'Retention', level: 1 }).waitFor();
    // seed 004's defaults
    await expect.poll(() => p.getByLabel('Default inactivity period (months)').inputValue()).toBe('36');
    expect(await p.getByLabel('Simulation mode for scheduled runs').isChecked()).toBe(true);
    await p.getByText('The batch has not run yet.').waitFor();

    await expect.poll(() => p.getByLabel('Inactive for at least (months)').inputValue()).toBe('36');
    await p.getByRole('button', { name: 'Run simulation' }).click();
    const panel = p.getByTestId('retention-run');
    await expect.poll(() => panel.getAttribute('data-status'), { timeout: 20_000 }).toBe('succeeded');
    expect(await panel.getByRole('heading', { level: 2 }).textContent()).toMatch(/^Simulation of .* · 36 months$/);
    expect(await panel.getByTestId('run-status').textContent()).toBe('Completed');

    // The histogram: an image with a name and a description, and the same figures as a table.
    const chart = panel.getByRole('img', { name: 'Last activity of contacts, by month' });
    expect(await chart.isVisible()).toBe(true);
    const described = await chart.getAttribute('aria-describedby');
    expect(await p.locator(`[id="${described}"]`).textContent()).toMatch(/6 contacts .*4 contacts last active before the cutoff/);
    expect(await panel.locator('svg rect').count()).toBeGreaterThanOrEqual(2);
    await panel.getByText('The histogram as a table').click();
    const monthOf = (d: Date) => d.toISOString().slice(0, 7);
    const histogramRows = panel.locator('.histogram-table tbody tr');
    await expect.poll(() => histogramRows.count()).toBeGreaterThanOrEqual(2);
    const rowText = async (month: string) => (await panel.locator('.histogram-table tbody tr', { has: p.getByRole('rowheader', { name: month }) }).textContent()) ?? '';
    expect(await rowText(monthOf(longAgo))).toBe(`${monthOf(longAgo)}4Yes`);
    expect(await rowText(monthOf(now))).toBe(`${monthOf(now)}2No`);

    // Totals and the per-organization table (institution-wide, names from the organizations).
    const totals = await panel.getByTestId('run-totals').textContent();
    expect(totals).toMatch(/Prospects to delete\s*3/);
    expect(totals).toMatch(/Customers to anonymise\s*1/);
    const orgTable = panel.getByRole('table', { name: 'Inactive contacts per organization' });
    const orgRow = (name: string) => orgTable.locator('tr', { has: p.getByRole('rowheader', { name, exact: true }) });
    expect((await orgRow('Career Services').locator('td').allTextContents()).map(Number)).toEqual([2, 0, 2]);
    expect((await orgRow('Alumni').locator('td').allTextContents()).map(Number)).toEqual([1, 1, 2]);
    expect((await orgRow('All organizations').locator('td').allTextContents()).map(Number)).toEqual([3, 1, 4]);
    // The sample (ids only) opens as a table with its own name, one row per contact in the set.
    await panel.getByText(/^Sample of the contacts in the set/).click();
    expect(await panel.getByRole('table', { name: 'Sample of the contacts in the set' }).locator('tbody tr').count()).toBe(4);
    // a simulation changes nothing
    expect((await env.api('GET', `/api/contacts/${prospects[0]}`)).firstName).toBe('Prospero0');

    // Execute: the dialog says what will happen; the button waits for the exact phrase.
    await panel.getByRole('button', { name: 'Execute for real…' }).click();
    const dialog = p.getByRole('dialog', { name: 'Delete and anonymise 4 inactive contacts?' });
    await dialog.waitFor();
    const effects = await dialog.getByTestId('execute-effects').textContent();
    expect(effects).toContain('3 prospects (never bought nor benefited) are deleted');
    expect(effects).toContain('1 customer (bought or benefited) is anonymised');
    expect(await dialog.textContent()).toContain('for 12 months, then it is gone for good');
    const go = dialog.getByRole('button', { name: 'Execute for real' });
    expect(await go.isDisabled()).toBe(true);
    const phrase = dialog.getByLabel('Type erase 4 contacts to confirm');
    await phrase.fill('erase 3 contacts');
    expect(await go.isDisabled()).toBe(true);
    await phrase.fill('erase 4 contacts');
    expect(await go.isDisabled()).toBe(false);
    await go.click();

    // The execution's panel replaces the simulation's and takes the focus; it completes with the counts seeded above.
    const execution = p.locator('[data-testid="retention-run"]', { has: p.getByRole('heading', { name: /^Execution of/ }) });
    await execution.waitFor();
    await expect.poll(() => p.evaluate(() => document.activeElement?.textContent ?? '')).toMatch(/^Execution of/);
    await expect.poll(() => execution.getAttribute('data-status'), { timeout: 30_000 }).toBe('succeeded');
    const done = await execution.getByTestId('run-executed').textContent();
    expect(done).toMatch(/Deleted\s*3/);
    expect(done).toMatch(/Anonymised\s*1/);
    expect(done).toMatch(/Skipped \(active again since the selection\)\s*0/);
    expect(done).toMatch(/Beneficiary names anonymised\s*0/);

    // Past runs: both, newest first, the execution completed with what it did.
    const pastRuns = p.getByRole('table', { name: 'Past runs' }).locator('tbody tr');
    await expect.poll(() => pastRuns.count()).toBe(2);
    await expect.poll(() => pastRuns.nth(0).textContent()).toMatch(/Execution · 36 months.*Completed.*Deleted 3, anonymised 1, skipped 0/);
    expect(await pastRuns.nth(1).textContent()).toMatch(/Simulation · 36 months.*Completed.*3 prospects to delete, 1 customer to anonymise.*Nothing \(simulation\)/);

    // What the server did matches: prospects gone, the buyer anonymised, the recent contacts untouched.
    for (const id of prospects) expect((await env.h.request(env.tenant.admin.token, { method: 'GET', url: `/api/contacts/${id}` })).statusCode).toBe(404);
    const anonymised = await env.h.request(env.tenant.admin.token, { method: 'GET', url: `/api/contacts/${buyer}` });
    if (anonymised.statusCode === 200) expect(anonymised.json()).not.toMatchObject({ firstName: 'Bertha' });
    for (const id of recent) expect((await env.api('GET', `/api/contacts/${id}`)).lastName).toBe('Recent');

    // The simulation's report stays reachable from the list.
    await p.getByRole('link', { name: /^Report of the simulation/ }).click();
    await p.getByRole('heading', { name: 'Run of the inactive-contact batch' }).waitFor();
    expect(await p.getByTestId('run-totals').textContent()).toMatch(/Prospects to delete\s*3/);
    expect(await p.getByRole('img', { name: 'Last activity of contacts, by month' }).isVisible()).toBe(true);
    await p.context().close();
  });

  it('settings: the server names a bad value beside its field; turning simulation off asks first', async () => {
    const p = await env.page();
    await env.signIn(p, env.tenant.adminEmail);
    await p.getByRole('heading', { name: 'Contacts' }).waitFor();
    await p.goto(`${env.base}/retention`);
    const months = p.getByLabel('Default inactivity period (months)');
    await expect.poll(() => months.inputValue()).toBe('36');
    await months.fill('0');
    await p.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => months.getAttribute('aria-invalid')).toBe('true');
    const errorId = (await months.getAttribute('aria-describedby'))!.split(' ')[0];
    expect(await p.locator(`[id="${errorId}"]`).textContent()).toContain('must be at least 1 month');
    expect((await env.api('GET', '/api/retention/settings')).inactivityMonths).toBe(36);

    await months.fill('24');
    await p.getByLabel('Schedule (cron, UTC)').fill('0 3 1 * *');
    await p.getByLabel('Simulation mode for scheduled runs').uncheck();
    await p.getByRole('button', { name: 'Save settings' }).click();
    const dialog = p.getByRole('dialog', { name: 'Turn simulation mode off?' });
    expect(await dialog.textContent()).toContain('Each scheduled run (0 3 1 * *, UTC) will delete the inactive prospects and anonymise the inactive customers for real');
    await dialog.getByRole('button', { name: 'Save: scheduled runs execute' }).click();
    await p.getByText('Settings saved').waitFor();
    expect(await env.api('GET', '/api/retention/settings')).toEqual({ inactivityMonths: 24, simulation: false, schedule: '0 3 1 * *', logRetentionMonths: 12 });
    // back to the defaults, so nothing runs for real on a schedule
    await env.api('PATCH', '/api/retention/settings', { inactivityMonths: 36, simulation: true, schedule: null });
    await p.context().close();
  });
});
