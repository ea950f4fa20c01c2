import { describe, expect, it } from 'vitest';
import { importProgress } from './progress-output.ts';

function pipe() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe('import progress outside a terminal', () => {
  it('writes one plain line per tenth of the file, then 100% at the end', () => {
    const { stream, lines } = pipe();
    const progress = importProgress(stream, 1000, 0);
    for (let bytes = 50; bytes <= 1000; bytes += 50) progress.update(bytes * 2, bytes);
    progress.stop();
    const rowsAt = (percent: number) => (percent === 0 ? 100 : percent * 20); // first update at 5%: 100 rows
    expect(lines).toEqual([
      ...[0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map((p) => `importing: ${p}% of the file, ${rowsAt(p).toLocaleString('en-US')} rows\n`),
      'importing: 100% of the file, 2,000 rows\n',
    ]);
    expect(lines[5]).toBe('importing: 50% of the file, 1,000 rows\n');
  });

  it('says nothing about 100% when the import stopped before the end', () => {
    const { stream, lines } = pipe();
    const progress = importProgress(stream, 1000, 0);
    progress.update(10, 400);
    progress.stop();
    expect(lines).toEqual(['importing: 40% of the file, 10 rows\n']);
  });
});
