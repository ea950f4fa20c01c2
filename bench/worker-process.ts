import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const lethe = path.resolve('bin/lethe.js');

/** Builds the bundles `lethe` runs, so that no measurement includes the build. */
export function buildLetheBundles(): void {
  spawnSync(process.execPath, [lethe, '--help'], { stdio: 'ignore' });
}

/**
 * Runs a real `lethe worker --once` (the bundle, no TypeScript loader, no benchmark data in its
 * heap) on a store until it has drained every due job and step, sampling its peak resident memory
 * (VmHWM) until it exits. No SMTP: queued mail stays in the outbox.
 */
export function runWorkerOnce(store: { dataDir: string; secret: string; databaseUrl?: string }): Promise<{ seconds: number; peakRssMb: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LETHE_DATA_DIR: store.dataDir, LETHE_SECRET: store.secret, LOG_LEVEL: 'error' };
  if (store.databaseUrl) env.DATABASE_URL = store.databaseUrl;
  else delete env.DATABASE_URL;
  delete env.SMTP_URL;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [lethe, 'worker', '--once'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peak = 0;
    child.stderr.on('data', (d) => (stderr += d));
    const sample = () => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 50);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`lethe worker --once exited with ${code}: ${stderr}`));
      else resolve({ seconds: (performance.now() - started) / 1000, peakRssMb: Math.round(peak) });
    });
  });
}
