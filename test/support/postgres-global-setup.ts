import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function findBinary(name: string): string | null {
  const which = spawnSync('which', [name], { encoding: 'utf8' });
  if (which.status === 0) return which.stdout.trim();
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort().reverse() : [];
  for (const v of versions) {
    const candidate = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** A throwaway cluster for machines where no PostgreSQL is running (initdb refuses root, so it runs as postgres). */
async function startThrowawayCluster(): Promise<{ url: string; stop: () => void } | null> {
  const initdb = findBinary('initdb');
  const pgCtl = findBinary('pg_ctl');
  if (!initdb || !pgCtl) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-pg-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (bin: string, args: string[]) =>
    asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' }) : execFileSync(bin, args, { stdio: 'pipe' });
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  run(initdb, ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
  run(pgCtl, ['-D', path.join(dir, 'data'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', path.join(dir, 'log'), '-w', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run(pgCtl, ['-D', path.join(dir, 'data'), '-m', 'immediate', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export default async function setup(project: TestProject) {
  let url: string | null = process.env.TEST_DATABASE_URL || null;
  let stop: (() => void) | undefined;
  if (url && !(await reachable(url))) throw new Error(`TEST_DATABASE_URL=${url} is not reachable; start PostgreSQL or unset it.`);
  if (!url && (await reachable('postgres://postgres@127.0.0.1:5432/postgres'))) url = 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!url) {
    const cluster = await startThrowawayCluster().catch((e) => {
      console.warn(`could not start a throwaway PostgreSQL cluster: ${e.message}`);
      return null;
    });
    if (cluster) {
      url = cluster.url;
      stop = cluster.stop;
    }
  }
  if (!url) {
    const banner = '\n*** PostgreSQL NOT AVAILABLE: the PostgreSQL half of the suite DID NOT RUN. Set TEST_DATABASE_URL or install PostgreSQL. ***\n';
    if (process.env.LETHE_REQUIRE_PG === '1') throw new Error(banner);
    console.warn(banner);
  }
  project.provide('pgUrl', url);
  return () => stop?.();
}
