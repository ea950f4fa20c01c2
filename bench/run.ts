import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { resultsFile, type BenchFigure } from './result.ts';

/** Each benchmark is a module with a `run()` returning its figures; they run one after another. */
const benchmarks: Record<string, () => Promise<{ run: () => Promise<BenchFigure[]> }>> = {
  'serve-idle-rss': () => import('./serve-idle-rss.bench.ts'),
  'console-size': () => import('./console-size.bench.ts'),
  'contacts-create': () => import('./contacts-create.bench.ts'),
  'directory-filter': () => import('./directory-filter.bench.ts'),
  'directory-page': () => import('./directory-page.bench.ts'),
  'dup-check': () => import('./dup-check.bench.ts'),
  apply: () => import('./apply.bench.ts'),
  import: () => import('./import.bench.ts'),
  export: () => import('./export.bench.ts'),
  'bulk-update': () => import('./bulk-update.bench.ts'),
  expunge: () => import('./expunge.bench.ts'),
  mail: () => import('./mail.bench.ts'),
  workflow: () => import('./workflow.bench.ts'),
  retention: () => import('./retention.bench.ts'),
};

export async function runBenchmarks(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length) {
    process.stderr.write(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${Object.keys(benchmarks).join(', ')}\n`);
    return 2;
  }
  const selected = names.length ? names : Object.keys(benchmarks);
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  if (!names.length) fs.writeFileSync(resultsFile, '');
  process.stderr.write(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}\n`);
  for (const name of selected) {
    process.stderr.write(`\n== ${name}\n`);
    const figures = await (await benchmarks[name]()).run();
    for (const f of figures) {
      fs.appendFileSync(resultsFile, JSON.stringify(f) + '\n');
      process.stdout.write(`${f.bench}: ${f.value} ${f.unit} (baseline ${f.baseline}, ratio ${f.ratio})\n`);
    }
  }
  return 0;
}
