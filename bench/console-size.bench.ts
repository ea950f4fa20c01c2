import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { buildConsole, consoleOutDir } from '../web/build.js';
import { figure, type BenchFigure } from './result.ts';

/**
 * console.js_kb_gz: the JavaScript a browser loads before the console's first screen (the entry
 * script and the chunks index.html preloads; lazily loaded pages are not counted), gzipped at
 * level 9. Baseline: a bare React + ReactDOM page built by Vite the same way (same plugin, target).
 */

function initialScripts(outDir: string): string[] {
  const html = fs.readFileSync(path.join(outDir, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/<script[^>]+src="([^"]+)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)].map((m) => m[1]);
  return [...new Set(refs)].filter((r) => r.endsWith('.js')).map((r) => path.join(outDir, r.replace(/^\//, '')));
}

function gzipKb(files: string[]): number {
  return files.reduce((sum, f) => sum + zlib.gzipSync(fs.readFileSync(f), { level: 9 }).length, 0) / 1024;
}

const bareHtml = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bare</title></head><body><div id="root"></div><script type="module" src="/main.tsx"></script></body></html>';
const bareMain = `import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
createRoot(document.getElementById('root')!).render(<StrictMode><p>Hello</p></StrictMode>);
`;

/** The baseline page lives inside the project so it resolves the same node_modules. */
async function buildBare(): Promise<string> {
  const root = path.resolve('bench/results/.console-baseline');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), bareHtml);
  fs.writeFileSync(path.join(root, 'main.tsx'), bareMain);
  const { build } = await import('vite');
  const { default: react } = await import('@vitejs/plugin-react');
  const outDir = path.join(root, 'dist');
  await build({ configFile: false, root, base: '/', logLevel: 'warn', plugins: [react()], build: { outDir, emptyOutDir: true, sourcemap: false, target: 'es2022' } });
  return outDir;
}

export async function run(): Promise<BenchFigure[]> {
  await buildConsole(); // always the current source, whatever dist/web holds
  const consoleFiles = initialScripts(consoleOutDir);
  if (consoleFiles.length === 0) throw new Error(`no script found in ${consoleOutDir}/index.html`);
  const bareOut = await buildBare();
  try {
    const value = gzipKb(consoleFiles);
    const baseline = gzipKb(initialScripts(bareOut));
    const lazy = fs.readdirSync(path.join(consoleOutDir, 'assets')).filter((f) => f.endsWith('.js') && !consoleFiles.some((c) => c.endsWith(f)));
    return [
      figure('console.js_kb_gz', value, 'KB', baseline, {
        target: '<= 300 KB',
        baselineIs: 'bare React + ReactDOM page built by Vite with the same plugin and target',
        initialFiles: consoleFiles.map((f) => path.basename(f)),
        lazyChunks: lazy.length,
        lazyKbGz: Math.round(gzipKb(lazy.map((f) => path.join(consoleOutDir, 'assets', f))) * 10) / 10,
      }),
    ];
  } finally {
    fs.rmSync(path.resolve('bench/results/.console-baseline'), { recursive: true, force: true });
  }
}
