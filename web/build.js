// Builds the console (web/) into dist/web with Vite. Imported cheaply by bin/lethe.js and the
// browser tests for the staleness check; Vite itself is loaded only inside buildConsole(), and
// bin/lethe.js runs this file as a child process so the serving process never holds Vite.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(webDir, '..');
export const consoleOutDir = path.join(root, 'dist', 'web');
const stamp = path.join(consoleOutDir, '.built');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** True when dist/web is missing or older than any file under web/ (or the lockfile). */
export function consoleIsStale() {
  if (!fs.existsSync(stamp)) return true;
  const builtAt = fs.statSync(stamp).mtimeMs;
  const lock = path.join(root, 'package-lock.json');
  const lockAt = fs.existsSync(lock) ? fs.statSync(lock).mtimeMs : 0;
  return builtAt < Math.max(newestSource(webDir), lockAt);
}

/** Runs `vite build` (programmatic API) into a temporary folder, then swaps it into dist/web. */
export async function buildConsole() {
  const { build } = await import('vite');
  const { default: react } = await import('@vitejs/plugin-react');
  fs.mkdirSync(path.dirname(consoleOutDir), { recursive: true });
  // Several processes may build at once: each writes its own folder and renames it into place.
  const temporary = `${consoleOutDir}.${process.pid}.tmp`;
  fs.rmSync(temporary, { recursive: true, force: true });
  await build({
    configFile: false,
    root: webDir,
    base: '/',
    logLevel: 'warn',
    plugins: [react()],
    build: { outDir: temporary, emptyOutDir: true, sourcemap: false, target: 'es2022', chunkSizeWarningLimit: 600 },
  });
  fs.writeFileSync(path.join(temporary, '.built'), new Date().toISOString());
  const old = `${consoleOutDir}.${process.pid}.old`;
  if (fs.existsSync(consoleOutDir)) fs.renameSync(consoleOutDir, old);
  fs.renameSync(temporary, consoleOutDir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** Builds only when stale; returns whether it built. */
export async function ensureConsoleBuilt() {
  if (!consoleIsStale()) return false;
  await buildConsole();
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildConsole();
}
