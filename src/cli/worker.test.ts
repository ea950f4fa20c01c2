import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

// `lethe worker` runs its own bundle so that a worker process stays small: it must not load the
// HTTP stack, which only `serve` needs (see bin/lethe.js and src/cli/worker.ts).
it('builds `lethe worker` a bundle of its own, without Fastify or its plugins', () => {
  const built = spawnSync(process.execPath, [path.resolve('bin/lethe.js'), 'worker', '--help'], { encoding: 'utf8' });
  expect(built.status, built.stderr).toBe(0);
  expect(built.stdout).toContain('Usage: lethe worker [options]');
  const worker = fs.readFileSync(path.resolve('dist/worker.js'), 'utf8');
  const imported = [...worker.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
  expect(imported).toContain('kysely');
  expect(imported.filter((name) => /fastify/.test(name))).toEqual([]);
  // The full program still has them: the check above would otherwise prove nothing.
  expect(fs.readFileSync(path.resolve('dist/main.js'), 'utf8')).toMatch(/^import .* from "fastify";$/m);
});
