#!/usr/bin/env node
// Runs Lethe from a bundle of src/ that is rebuilt (esbuild, well under a second) whenever a
// source file is newer than it, so `npm start` needs no separate build step and the running
// process carries no TypeScript loader (that keeps an idle server's memory low).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
// Two bundles: `lethe worker` runs its own (src/cli/worker.ts), which leaves out what only the other
// commands load (Fastify, its plugins, the route schemas), so a worker process stays small.
const entries = { main: 'src/main.ts', worker: 'src/cli/worker.ts' };
const bundleOf = (name) => path.join(dist, `${name}.js`);

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

const builtAt = Math.min(...Object.keys(entries).map((name) => (fs.existsSync(bundleOf(name)) ? fs.statSync(bundleOf(name)).mtimeMs : 0)));
if (builtAt < newestSource(path.join(root, 'src'))) {
  const { build } = await import('esbuild');
  // Several processes may start at once: each builds into its own folder and renames the files into place.
  const temporary = path.join(dist, `.build-${process.pid}`);
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, source]) => [name, path.join(root, source)])),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // Beside the bundle, not inside it: an inline map (three times the code's size) would sit in
    // every process's heap as part of the script's source. `node --enable-source-maps` reads it.
    sourcemap: 'linked',
    outdir: temporary,
    logLevel: 'error',
  });
  for (const name of Object.keys(entries)) {
    fs.renameSync(path.join(temporary, `${name}.js.map`), `${bundleOf(name)}.map`);
    fs.renameSync(path.join(temporary, `${name}.js`), bundleOf(name));
  }
  fs.rmSync(temporary, { recursive: true, force: true });
}

// The console (web/ → dist/web) is rebuilt with Vite when web/ is newer than the last build. It
// runs in a child process so the server never loads Vite: it only serves the built files.
if (process.argv[2] === 'serve') {
  const { consoleIsStale } = await import(pathToFileURL(path.join(root, 'web', 'build.js')).href);
  if (consoleIsStale()) {
    const { spawnSync } = await import('node:child_process');
    process.stderr.write('building the web console (web/ → dist/web)…\n');
    const built = spawnSync(process.execPath, [path.join(root, 'web', 'build.js')], { stdio: 'inherit' });
    if (built.status !== 0) process.stderr.write('the web console could not be built; the API still serves at /api\n');
  }
}

const { main } = await import(pathToFileURL(bundleOf(process.argv[2] === 'worker' ? 'worker' : 'main')).href);
const code = await main(process.argv.slice(2));
// serve keeps running; every other command exits with its code.
if (!(process.argv[2] === 'serve' && code === 0)) process.exit(code);
