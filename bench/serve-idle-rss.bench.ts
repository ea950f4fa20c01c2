import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { figure, type BenchFigure } from './result.ts';

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb / 1024;
}

/** How long a process sits with no requests before its memory counts as idle: V8's memory reducer
 * gives back the young generation that start-up garbage grew about 15–20 s after the last activity. */
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);

/**
 * Starts a process, waits until it prints `ready`, then reads its resident memory 3 s later (just
 * started) and after IDLE_SECONDS with no requests (idle, the figure).
 */
async function idleRss(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ started: number; idle: number }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        if (ready.test(out)) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      setTimeout(() => reject(new Error(`not ready after 60 s: ${out}`)), 60_000);
    });
    await sleep(3000);
    const started = rssMb(child.pid!);
    await sleep(IDLE_SECONDS * 1000 - 3000);
    return { started, idle: rssMb(child.pid!) };
  } finally {
    child.kill('SIGKILL');
  }
}

const bareServer = `
import Fastify from 'fastify';
import SQLite from 'better-sqlite3';
const db = new SQLite(process.env.DB_FILE);
db.pragma('journal_mode = WAL');
const app = Fastify();
app.get('/health', async () => ({ ok: db.prepare('select 1 as x').get().x }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log('ready');
`;

export async function run(): Promise<BenchFigure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-rss-'));
  try {
    const baselineFile = path.join(dir, 'bare.mjs');
    fs.writeFileSync(baselineFile, bareServer);
    // The bare server must resolve the project's node_modules.
    const bareInProject = path.resolve('bench/results/.bare-server.mjs');
    fs.mkdirSync(path.dirname(bareInProject), { recursive: true });
    fs.copyFileSync(baselineFile, bareInProject);
    const baseline = await idleRss([bareInProject], { DB_FILE: path.join(dir, 'bare.db') }, /ready/);
    const lethe = await idleRss(['bin/lethe.js', 'serve'], { LETHE_DATA_DIR: path.join(dir, 'data'), PORT: '0', LOG_LEVEL: 'warn' }, /serving on/);
    return [
      figure('serve.idle_rss_mb', lethe.idle, 'MB', baseline.idle, {
        target: '<= 150 MB',
        idleSeconds: IDLE_SECONDS,
        rssThreeSecondsAfterStartMb: Math.round(lethe.started * 10) / 10,
        baselineThreeSecondsAfterStartMb: Math.round(baseline.started * 10) / 10,
        baselineIs: 'bare Fastify + better-sqlite3 process, measured the same way',
      }),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
