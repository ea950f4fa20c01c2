#!/usr/bin/env node
// `npm run bench` runs every benchmark; `npm run bench -- <name>` runs one (see bench/README in docs/benchmarks.md).
import { register } from 'tsx/esm/api';
register();
const { runBenchmarks } = await import('../bench/run.ts');
process.exit(await runBenchmarks(process.argv.slice(2)));
