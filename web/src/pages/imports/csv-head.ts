/**
 * The first records of a CSV file, read in the browser to show its columns before upload
 * (RFC 4180 quoting; a BOM is dropped). The server checks the whole file again on upload.
 */
export function parseCsvHead(text: string, maxRecords = 4): string[][] {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length && records.length < maxRecords; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      records.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (records.length < maxRecords && (cell !== '' || row.length > 0)) {
    row.push(cell);
    records.push(row);
  }
  return records;
}

/** Reads only the start of the file: enough for the header and a few sample rows. */
export async function readCsvHead(file: File): Promise<string[][]> {
  return parseCsvHead(await file.slice(0, 64 * 1024).text());
}
