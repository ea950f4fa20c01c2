import fs from 'node:fs';
import path from 'node:path';

export interface BenchFigure {
  bench: string;
  value: number;
  unit: string;
  baseline: number;
  /** value relative to the baseline, oriented so that higher is better for rates and lower for latencies/memory */
  ratio: number;
  detail?: Record<string, unknown>;
}

export const resultsFile = path.resolve('bench/results/latest.jsonl');

export function figure(bench: string, value: number, unit: string, baseline: number, detail?: Record<string, unknown>): BenchFigure {
  const round = (n: number) => Math.round(n * 100) / 100;
  return { bench, value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline), ...(detail ? { detail } : {}) };
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}
