import { isUtf8 } from 'node:buffer';
import { Parser, type CsvError } from 'csv-parse';

/**
 * Streaming CSV reading for imports: bytes in, batches of records out, in constant memory.
 * The file must be UTF-8 (with or without a BOM; UTF-16LE with a BOM is read too, as Excel's
 * "Unicode text" writes it). Anything malformed stops the read with a CsvFormatError that names
 * the row and line and never repeats the file's content (it may hold an SSN).
 */

export interface CsvRecord {
  /** the record's row as a spreadsheet numbers it: the header is row 1 */
  row: number;
  cells: string[];
}

export class CsvFormatError extends Error {
  constructor(
    message: string,
    /** the row being read when the problem was found, when known */
    readonly row: number | null,
    readonly line: number | null,
  ) {
    super(message);
  }
}

/** Longest record accepted; a longer one is almost always an unclosed quote swallowing the rest of the file. */
export const MAX_RECORD_BYTES = 256 * 1024;

interface ParserApi {
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): CsvError | undefined;
  info: { lines: number; records: number; bytes: number };
}

/** Bytes at the end of `buf` that start a UTF-8 sequence not finished in this buffer. */
function incompleteTail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const byte = buf[buf.length - back];
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

function countLines(buf: Buffer, end = buf.length): number {
  let n = 0;
  let at = buf.indexOf(10);
  while (at !== -1 && at < end) {
    n++;
    at = buf.indexOf(10, at + 1);
  }
  return n;
}

/** The offset of the first byte that makes `buf` invalid UTF-8 (binary search over isUtf8 of prefixes). */
function firstInvalidByte(buf: Buffer): number {
  let lo = 0;
  let hi = buf.length;
  while (hi - lo > 4) {
    const mid = (lo + hi) >> 1;
    let cut = mid;
    // never cut inside a sequence, unless only continuation bytes lie between lo and mid (then
    // stepping back would not move lo, and the search would never end)
    while (cut > lo && (buf[cut] & 0xc0) === 0x80) cut--;
    if (cut === lo) cut = mid;
    if (isUtf8(buf.subarray(0, cut))) lo = cut;
    else hi = cut;
  }
  return lo;
}

function describe(error: CsvError, row: number, maxRecordBytes: number): CsvFormatError {
  const line = typeof (error as { lines?: unknown }).lines === 'number' ? (error as unknown as { lines: number }).lines : null;
  const where = line === null ? `row ${row}` : `row ${row} (line ${line})`;
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new CsvFormatError(`The file ends inside a quoted value: a quote opened at ${where} or before is never closed.`, row, line);
    case 'CSV_MAX_RECORD_SIZE':
      return new CsvFormatError(
        `At ${where} a record is longer than ${Math.round(maxRecordBytes / 1024)} KiB: the file probably has a quote that is never closed there, or a line that is not CSV.`,
        row,
        line,
      );
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return new CsvFormatError(
        `At ${where} a quoted value is followed by other characters before the next comma: a quote inside a value must be doubled ("").`,
        row,
        line,
      );
    case 'INVALID_OPENING_QUOTE':
      return new CsvFormatError(`At ${where} a quote appears in the middle of an unquoted value: quote the whole value and double the quote inside it ("").`, row, line);
    default:
      return new CsvFormatError(`The file is not valid CSV at ${where} (${error.code}).`, row, line);
  }
}

export class CsvReader {
  private readonly api: ParserApi;
  private readonly source: AsyncIterator<Buffer>;
  private queue: string[][] = [];
  private head = 0;
  private records = 0;
  private linesBefore = 0;
  private carry: Buffer | null = null;
  private started = false;
  private utf16 = false;
  private ended = false;
  private failure: CsvFormatError | null = null;
  /** bytes taken from the source so far */
  bytesRead = 0;

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    this.source = source[Symbol.asyncIterator]();
    // The parser's synchronous core (the stream wrapper only adds buffering we do not need).
    const parser = new Parser({ bom: true, relax_column_count: true, skip_empty_lines: false, max_record_size: maxRecordBytes, record_delimiter: ['\r\n', '\n', '\r'] });
    this.api = (parser as unknown as { api: ParserApi }).api;
  }

  /**
   * Up to `max` records, in order; an empty array at the end of the file. The records before a
   * malformed one are returned first; the next call throws the CsvFormatError.
   */
  async read(max: number): Promise<CsvRecord[]> {
    if (this.failure && this.head === this.queue.length) throw this.failure;
    // Forget the records already handed out (a long file must not stay referenced here).
    if (this.head > 0) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    while (this.queue.length - this.head < max && !this.ended && !this.failure) {
      try {
        await this.pull();
      } catch (error) {
        if (!(error instanceof CsvFormatError)) throw error;
        this.failure = error;
        if (this.head === this.queue.length) throw error;
      }
    }
    const end = Math.min(this.queue.length, this.head + max);
    const out: CsvRecord[] = new Array(end - this.head);
    for (let i = this.head; i < end; i++) out[i - this.head] = { row: this.records - (this.queue.length - i) + 1, cells: this.queue[i] };
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return out;
  }

  /** Skips `count` records (a resumed import passing over what it already handled). */
  async skip(count: number): Promise<number> {
    let skipped = 0;
    while (skipped < count) {
      const batch = await this.read(Math.min(10_000, count - skipped));
      if (batch.length === 0) break;
      skipped += batch.length;
    }
    return skipped;
  }

  private push = (record: string[]) => {
    this.queue.push(record);
    this.records++;
  };

  private parse(buf: Buffer | undefined, end: boolean): void {
    const error = this.api.parse(buf, end, this.push, () => {});
    if (error) throw describe(error, this.records + 1, this.maxRecordBytes);
  }

  private async pull(): Promise<void> {
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      if (this.carry && this.carry.length) {
        throw new CsvFormatError(
          `The file is not UTF-8 text: it ends in the middle of a character (line ${this.linesBefore + 1}). Save it as "CSV UTF-8" and import it again.`,
          this.records + 1,
          this.linesBefore + 1,
        );
      }
      this.parse(undefined, true);
      return;
    }
    let buf = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    this.bytesRead += buf.length;
    if (!this.started) {
      this.started = true;
      if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
        throw new CsvFormatError('The file is UTF-16 big-endian text; save it as "CSV UTF-8" and import it again.', 1, 1);
      }
      this.utf16 = buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe;
    }
    if (!this.utf16) buf = this.checkUtf8(buf);
    if (buf.length) this.parse(buf, false);
  }

  /** Validates UTF-8 across chunk boundaries; returns the bytes safe to parse now. */
  private checkUtf8(chunk: Buffer): Buffer {
    let buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const tail = incompleteTail(buf);
    this.carry = tail ? Buffer.from(buf.subarray(buf.length - tail)) : null;
    if (tail) buf = buf.subarray(0, buf.length - tail);
    if (!isUtf8(buf)) {
      const bad = firstInvalidByte(buf);
      const line = this.linesBefore + countLines(buf, bad) + 1;
      throw new CsvFormatError(
        `The file is not UTF-8 text (line ${line} holds bytes that are not UTF-8, as in a file saved as Latin-1 or Windows-1252). Save it as "CSV UTF-8" and import it again.`,
        null,
        line,
      );
    }
    this.linesBefore += countLines(buf);
    return buf;
  }
}

/** A file's bytes as the reader wants them (1 MiB reads). */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const { createReadStream } = await import('node:fs');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
}
