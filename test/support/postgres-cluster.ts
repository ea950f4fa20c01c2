import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Kept free of the test harness: the suite's global set-up (no test APIs there) uses it too.

/** A PostgreSQL binary from PATH or Debian's /usr/lib/postgresql/<version>/bin, or null. */
export function findPostgresBinary(name: string): string | null {
  const which = spawnSync('which', [name], { encoding: 'utf8' });
  if (which.status === 0) return which.stdout.trim();
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort().reverse() : [];
  for (const v of versions) {
    const candidate = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

export interface ThrowawayCluster {
  url: string;
  /** `pg_ctl restart -m fast`: every connection is cut, the server is back when this resolves */
  restart(): void;
  stop(): void;
}

/**
 * A PostgreSQL cluster of its own (initdb in a temp folder, a free port, loopback only), for tests
 * that restart the server: the machine's shared cluster is never touched. initdb refuses root,
 * so as root it runs as the postgres user. Null when the binaries are not installed.
 */
export async function startThrowawayCluster(): Promise<ThrowawayCluster | null> {
  const initdb = findPostgresBinary('initdb');
  const pgCtl = findPostgresBinary('pg_ctl');
  if (!initdb || !pgCtl) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-pgfault-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  // stdio ignored: the server pg_ctl leaves running would otherwise hold the pipes open, and a
  // synchronous call would wait for them for ever.
  const run = (bin: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'ignore', timeout: 60_000 })
      : execFileSync(bin, args, { stdio: 'ignore', timeout: 60_000 });
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const data = path.join(dir, 'data');
  run(initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  run(pgCtl, ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => void run(pgCtl, ['-D', data, '-o', options, '-m', 'fast', '-w', 'restart']),
    stop: () => {
      try {
        run(pgCtl, ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
