import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { consoleIsStale, ensureConsoleBuilt } from '../../web/build.js';
import { ManualClock } from '../../src/clock.ts';
import { startLetheWorker } from '../../src/jobs/registry.ts';
import type { RunningWorker } from '../../src/jobs/worker.ts';
import { Harness, TEST_PASSWORD, type SeededTenant } from '../support/harness.ts';

// Real Chromium against the real app on a loopback port and a fresh SQLite database.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Several test files may find the console stale at once: each builds into its own folder and renames it in; a lost race is fine if the build is there. */
async function buildOnce(): Promise<void> {
  try {
    await ensureConsoleBuilt();
  } catch (error) {
    if (consoleIsStale()) throw error;
  }
}

export interface ConsoleTestEnv {
  h: Harness;
  base: string;
  browser: Browser;
  tenant: SeededTenant;
  /** a new browser context (its own cookies) at desktop size, or the size given */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  signIn(p: Page, email: string, password?: string): Promise<void>;
  /** the API as the tenant's admin (bearer token); throws on an error answer */
  api(method: string, url: string, payload?: unknown): Promise<any>;
}

/**
 * The browser tests' shared set-up: the app on SQLite listening on a loopback port, Chromium,
 * one seeded tenant, and (with `worker: true`) the background worker so jobs run as in `lethe serve`.
 */
export function useConsole(options: { worker?: boolean } = {}): ConsoleTestEnv {
  const h = new Harness('sqlite');
  // Session cookies expire relative to the server's clock, so the browser needs it near real time.
  h.clock = new ManualClock(new Date());
  let worker: RunningWorker | null = null;
  const env = { h } as ConsoleTestEnv;

  beforeAll(async () => {
    await buildOnce();
    await h.start();
    env.base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    env.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    env.tenant = await h.tenant();
    if (options.worker) worker = startLetheWorker(h.ctx, { pollMs: 100, transport: null });
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await env.browser?.close();
    await h.stop();
  });

  env.page = async (viewport = { width: 1280, height: 900 }) => (await env.browser.newContext({ viewport, acceptDownloads: true })).newPage();
  env.signIn = async (p, email, password = TEST_PASSWORD) => {
    await p.goto(`${env.base}/`);
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(password);
    await p.getByRole('button', { name: 'Sign in' }).click();
  };
  env.api = async (method, url, payload) => {
    const response = await h.request(env.tenant.admin.token, { method: method as 'POST', url, payload: payload as object });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? null : response.json();
  };
  return env;
}
