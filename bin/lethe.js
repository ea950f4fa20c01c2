#!/usr/bin/env node
// Runs Lethe from a bundle of src/ that is rebuilt (esbuild, well under a second) whenever a
// source file is newer than it, so `npm start` needs no separate build step and the running
// process carries no TypeScript loader (that keeps an idle server's memory low).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist', 'main.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

const builtAt = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
if (builtAt < newestSource(path.join(root, 'src'))) {
  const { build } = await import('esbuild');
  // Several processes may start at once: each writes its own file and renames it into place.
  const temporary = `${bundle}.${process.pid}.tmp`;
  await build({
    entryPoints: [path.join(root, 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    outfile: temporary,
    logLevel: 'error',
  });
  fs.renameSync(temporary, bundle);
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

const { main } = await import(pathToFileURL(bundle).href);
const code = await main(process.argv.slice(2));
// serve keeps running; every other command exits with its code.
if (!(process.argv[2] === 'serve' && code === 0)) process.exit(code);
