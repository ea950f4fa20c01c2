#!/usr/bin/env node
// `npm run screenshots`: starts `lethe serve` on a fresh embedded database exactly as a newcomer
// would, adds a few contacts through the API, and photographs the console's main screens with
// Debian's Chromium into docs/screenshots/ (shown in the README). Loopback only.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'docs', 'screenshots');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-screenshots-'));

const server = spawn(process.execPath, [path.join(root, 'bin', 'lethe.js'), 'serve'], {
  env: { ...process.env, LETHE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: '' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let printed = '';
server.stdout.on('data', (d) => (printed += d));
const started = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`lethe serve did not start:\n${printed}`)), 120_000);
  const poll = setInterval(() => {
    const url = /serving on (http:\/\/\S+)/.exec(printed)?.[1];
    const password = /password: (\S+)/.exec(printed)?.[1];
    if (url && password) (clearInterval(poll), clearTimeout(timer), resolve({ url: url.replace('localhost', '127.0.0.1'), password }));
  }, 100);
});

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto(started.url);
  await page.getByLabel('Email').fill('admin@demo.lethe.local');
  await page.getByLabel('Password').fill(started.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Contacts' }).first().waitFor();

  // A few people, created through the API with the session the browser holds.
  const people = [
    ['Ada', 'Lovelace', 'ada@example.org'], ['Grace', 'Hopper', 'grace@example.org'], ['Katherine', 'Johnson', 'kjohnson@nasa.example'],
    ['Katherine', 'Johnson', 'kjohnson@langley.example'], ['Alan', 'Turing', 'alan@example.org'], ['Edsger', 'Dijkstra', 'edsger@example.org'],
  ];
  const ids = await page.evaluate(async (list) => {
    const session = await (await fetch('/api/session')).json();
    const created = [];
    for (const [firstName, lastName, email] of list) {
      const res = await fetch('/api/contacts', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ firstName, lastName, email, onDuplicate: 'create_anyway' }),
      });
      created.push((await res.json()).id);
    }
    return created;
  }, people);

  fs.mkdirSync(out, { recursive: true });
  const shoot = async (name, url, ready) => {
    await page.goto(`${started.url}${url}`);
    await ready();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(out, `${name}.png`) });
    process.stdout.write(`docs/screenshots/${name}.png\n`);
  };
  await shoot('directory', '/contacts', () => page.getByText('Lovelace').first().waitFor());
  await shoot('contact', `/contacts/${ids[0]}`, () => page.getByRole('heading', { name: 'Ada Lovelace' }).waitFor());
  await shoot('duplicates', '/duplicates', () => page.getByRole('heading').first().waitFor());
  await shoot('imports', '/imports', () => page.getByRole('heading').first().waitFor());
  await shoot('exports', '/exports', () => page.getByRole('heading').first().waitFor());
  await shoot('audit-log', '/audit', () => page.getByRole('heading').first().waitFor());

  // Seed 000's workflow from its template, and a retention simulation with its report.
  const { workflowId, runId } = await page.evaluate(async () => {
    const session = await (await fetch('/api/session')).json();
    const post = async (url, body) =>
      (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken }, body: JSON.stringify(body) })).json();
    const workflow = await post('/api/workflow-templates/opt_in_or_expunge', {});
    const run = await post('/api/retention/runs', {});
    return { workflowId: workflow.id, runId: run.id };
  });
  await shoot('workflows', '/workflows', () => page.getByRole('heading').first().waitFor());
  await shoot('workflow-editor', `/workflows/${workflowId}`, () => page.getByRole('heading').first().waitFor());
  await shoot('retention-report', `/retention/runs/${runId}`, () => page.getByText(/last activity/i).first().waitFor({ timeout: 30_000 }));
} finally {
  await browser.close();
  server.kill('SIGTERM');
  fs.rmSync(dataDir, { recursive: true, force: true });
}
