import { once } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { ExportFormat } from '../db/schema.ts';

/**
 * Tables written into a zip as CSV or JSON, streaming: each table yields pages of rows, each page
 * is serialised and written with backpressure, so memory stays constant whatever the size.
 */
export interface ExportTable {
  /** file name without extension, e.g. "contacts" */
  name: string;
  columns: string[];
  pages: AsyncIterable<unknown[][]>;
  /** the JSON form of a row (default: an object of column → value) */
  json?: (row: unknown[]) => unknown;
}

// A cell a spreadsheet would run as a formula gets a leading apostrophe; phone-like values (+33 …, -5) stay as they are.
const formulaStart = /^[=@\t\r]|^[+-](?![\d\s().-]*$)/;

const needsQuotes = /[",\r\n]/;
// The first characters formulaStart can match (= @ tab CR + -): most cells start with none, so the regex is skipped.
const mayStartFormula = (code: number) => code === 61 || code === 64 || code === 9 || code === 13 || code === 43 || code === 45;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && mayStartFormula(text.charCodeAt(0)) && formulaStart.test(text)) text = `'${text}`;
  return needsQuotes.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i ? ',' : '') + csvCell(values[i]);
  return line + '\r\n';
}

const objectOf = (columns: string[]) => (row: unknown[]) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null]));

// Text is handed to the zip in chunks this large: under 128 KB even as two-byte text, since a
// larger string lands in V8's large-object space, which only a full collection frees. The entry
// buffers several, so the writer keeps producing while deflate (on the libuv threadpool) works
// through the previous ones; a deeper buffer only added ~50 MB of waiting buffers to the peak RSS.
const FLUSH_BYTES = 32 * 1024;
const ENTRY_BUFFER_BYTES = 8 * FLUSH_BYTES;

export interface ArchiveOptions {
  format: ExportFormat;
  /** zip entry times: the export's production time (time is injected, never read here) */
  mtime: Date;
  /** deflate level, 1 (fast) … 9 (small) */
  compressionLevel?: number;
  /** called after each page with the rows written so far in the current table */
  onRows?: (table: string, rows: number) => Promise<void>;
  /** small documents written whole after the tables (subject access: the JSON and HTML copies) */
  files?: { name: string; content: Buffer }[];
}

/**
 * Writes the tables, then a manifest built from their row counts, into a zip piped into `sink`
 * (the encryption stream, then the file). Resolves with the row count of each table once the
 * sink has flushed everything.
 */
export async function writeArchive(
  tables: ExportTable[],
  manifest: (counts: Record<string, number>) => unknown,
  sink: Writable[],
  options: ArchiveOptions,
): Promise<Record<string, number>> {
  const zip = new yazl.ZipFile();
  const done = pipeline(zip.outputStream, ...(sink as [Writable]));
  let failure: unknown = null;
  const failed = done.then(
    () => new Promise<never>(() => {}),
    (error) => {
      failure = error;
      throw error;
    },
  );
  failed.catch(() => {});
  const level = options.compressionLevel ?? 6;
  const counts: Record<string, number> = {};
  try {
    for (const table of tables) {
      const fileName = `${table.name}.${options.format}`;
      const entry = new PassThrough({ highWaterMark: ENTRY_BUFFER_BYTES });
      zip.addReadStream(entry, fileName, { mtime: options.mtime, compressionLevel: level });
      let text = '';
      const flush = async (force: boolean) => {
        if (failure) throw failure;
        if (!force && text.length < FLUSH_BYTES) return;
        if (text.length && !entry.write(text)) await Promise.race([once(entry, 'drain'), failed]);
        text = '';
      };
      const json = table.json ?? objectOf(table.columns);
      let rows = 0;
      if (options.format === 'csv') text += csvLine(table.columns);
      else text += '[';
      for await (const page of table.pages) {
        for (const row of page) {
          if (options.format === 'csv') text += csvLine(row);
          else text += (rows ? ',\n' : '\n') + JSON.stringify(json(row));
          rows++;
          if (text.length >= FLUSH_BYTES) await flush(false);
        }
        await options.onRows?.(table.name, rows);
      }
      if (options.format === 'json') text += rows ? '\n]\n' : ']\n';
      await flush(true);
      entry.end();
      counts[table.name] = rows;
    }
    for (const f of options.files ?? []) zip.addBuffer(f.content, f.name, { mtime: options.mtime, compressionLevel: level });
    zip.addBuffer(Buffer.from(JSON.stringify(manifest(counts), null, 2) + '\n'), 'manifest.json', { mtime: options.mtime, compressionLevel: level });
    zip.end();
    await Promise.race([done, failed]);
    return counts;
  } catch (error) {
    zip.outputStream.unpipe();
    for (const s of sink) s.destroy();
    throw error;
  }
}
