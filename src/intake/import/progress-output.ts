import cliProgress from 'cli-progress';

/**
 * How `lethe import` shows its progress. On a terminal, a redrawn bar; anywhere else (a pipe, a
 * log file, a CI job) the bar library writes nothing at all, so plain lines are written instead,
 * one per tenth of the file, so a long import run from cron or a script still shows it is moving.
 */
export interface ImportProgress {
  update(rowsDone: number, bytesRead: number): void;
  stop(): void;
}

const number = (n: number) => n.toLocaleString('en-US');

export function importProgress(stream: NodeJS.WriteStream, fileBytes: number, rowsDone: number): ImportProgress {
  const total = Math.max(1, fileBytes);
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'importing [{bar}] {percentage}% | {rows} rows | {eta_formatted} left', hideCursor: true, stream },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rows: number(rowsDone) });
    return {
      update: (rows, bytes) => bar.update(Math.min(bytes, total), { rows: number(rows) }),
      stop: () => bar.stop(),
    };
  }
  let lastTenth = -1;
  let last = { rows: rowsDone, bytes: 0 };
  const line = (rows: number, percent: number) => stream.write(`importing: ${percent}% of the file, ${number(rows)} rows\n`);
  return {
    update(rows, bytes) {
      last = { rows, bytes };
      const tenth = Math.floor((Math.min(bytes, total) / total) * 10);
      if (tenth > lastTenth && tenth < 10) {
        lastTenth = tenth;
        line(rows, tenth * 10);
      }
    },
    stop() {
      if (last.bytes >= total) line(last.rows, 100);
    },
  };
}
