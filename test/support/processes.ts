import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import type { Harness } from './harness.ts';
import { TEST_SECRET } from './harness.ts';

/**
 * `lethe` as real child processes, for tests that kill, restart or load them: spawn, wait for the
 * line that says a process is ready, kill -9, and make sure nothing outlives its test.
 */

export const letheBin = path.resolve('bin/lethe.js');

/** The environment a child `lethe` needs to share a harness's database (and data folder, for export files). */
export function letheEnv(h: Harness, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LETHE_DATA_DIR: h.database.dataDir, LETHE_SECRET: TEST_SECRET, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.SMTP_URL;
  if (h.database.url) env.DATABASE_URL = h.database.url;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface LetheProcess {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr so far */
  output(): string;
  /** resolves with the exit code (null when killed by a signal) */
  exited: Promise<number | null>;
  alive(): boolean;
  /** SIGKILL, then waits for the exit: what a crash or a lost machine does */
  kill9(): Promise<void>;
  /** SIGTERM (a clean stop), SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<LetheProcess>();

/** Builds dist/main.js once, so processes started side by side do not each rebuild it. */
export function buildLetheOnce(): void {
  spawnSync(process.execPath, [letheBin, '--help'], { stdio: 'ignore' });
}

/** Starts `lethe <args>` (or any command, with `command`), recording its output; `killAllLethe` ends it if the test does not. */
export function spawnLethe(args: string[], env: NodeJS.ProcessEnv, opts: { command?: string[]; spawn?: SpawnOptions } = {}): LetheProcess {
  const argv = [...(opts.command ?? [process.execPath]), letheBin, ...args];
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], ...opts.spawn });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => ((done = true), running.delete(p), resolve(code))));
  const p: LetheProcess = {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    alive: () => !done,
    async kill9() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(p);
  return p;
}

/** Waits until the process printed something matching `pattern`; fails with its output if it exits or takes too long. */
export async function waitForOutput(p: LetheProcess, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(p.output());
    if (match) return match;
    if (!p.alive()) throw new Error(`lethe exited before printing ${pattern}:\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`lethe did not print ${pattern} within ${timeoutMs} ms:\n${p.output()}`);
    await sleep(25);
  }
}

/** `lethe serve` on a free loopback port; resolves once it answers, with its base URL. */
export async function startServe(env: NodeJS.ProcessEnv, opts: { command?: string[] } = {}): Promise<LetheProcess & { url: string }> {
  const p = spawnLethe(['serve'], { PORT: '0', ...env }, opts);
  const match = await waitForOutput(p, /serving on (http:\/\/\S+)/);
  return Object.assign(p, { url: match[1].replace('localhost', '127.0.0.1') });
}

/** `lethe worker` (looping); resolves once it says it runs. */
export async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<LetheProcess> {
  const p = spawnLethe(['worker'], env);
  await waitForOutput(p, /Lethe worker \S+ running/);
  return p;
}

/** Kills (SIGKILL) every lethe process a test started and has not ended: for afterAll, even after a failure. */
export async function killAllLethe(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill9()));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value. */
export async function waitUntil<T>(what: string, probe: () => Promise<T> | T, opts: { timeoutMs?: number; everyMs?: number } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(opts.everyMs ?? 20);
  }
}

export { findPostgresBinary, startThrowawayCluster, type ThrowawayCluster } from './postgres-cluster.ts';
