import { describe, expect, it } from 'vitest';
import { CsvFormatError, CsvReader } from './csv-reader.ts';

async function* pieces(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

async function readAll(reader: CsvReader, batch = 3) {
  const out: { row: number; cells: string[] }[] = [];
  for (;;) {
    const b = await reader.read(batch);
    if (!b.length) return out;
    out.push(...b);
  }
}

async function failure(...parts: (string | Buffer)[]): Promise<CsvFormatError> {
  try {
    await readAll(new CsvReader(pieces(...parts)));
  } catch (error) {
    expect(error).toBeInstanceOf(CsvFormatError);
    return error as CsvFormatError;
  }
  throw new Error('the file was read without an error');
}

describe('CsvReader', () => {
  it('reads records in batches, numbering rows as a spreadsheet does (header = row 1), quoted cells spanning lines counted once', async () => {
    const rows = await readAll(new CsvReader(pieces('a,b\n1,"two\nlines"\n3,"say ""hi"""\r\n4,')), 2);
    expect(rows).toEqual([
      { row: 1, cells: ['a', 'b'] },
      { row: 2, cells: ['1', 'two\nlines'] },
      { row: 3, cells: ['3', 'say "hi"'] },
      { row: 4, cells: ['4', ''] },
    ]);
  });

  it('strips a UTF-8 BOM and reads UTF-16LE files that start with a BOM', async () => {
    expect((await readAll(new CsvReader(pieces(Buffer.from([0xef, 0xbb, 0xbf]), 'Email\nx@y.org\n'))))[0].cells).toEqual(['Email']);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Nom,Prénom\nDurand,Zoé\n', 'utf16le')]);
    expect(await readAll(new CsvReader(pieces(utf16)))).toEqual([
      { row: 1, cells: ['Nom', 'Prénom'] },
      { row: 2, cells: ['Durand', 'Zoé'] },
    ]);
  });

  it('accepts a multi-byte character split across two reads', async () => {
    const bytes = Buffer.from('name\nZoë Ångström\n', 'utf8');
    const cut = bytes.indexOf(Buffer.from('ë')) + 1; // inside the two bytes of ë
    const rows = await readAll(new CsvReader(pieces(bytes.subarray(0, cut), bytes.subarray(cut))));
    expect(rows[1].cells).toEqual(['Zoë Ångström']);
  });

  it('refuses text that is not UTF-8 (Latin-1), naming the line, without repeating its content', async () => {
    const latin1 = Buffer.concat([Buffer.from('name,city\nAnn,Paris\nZo'), Buffer.from([0xeb]), Buffer.from(',Orléans\n')]);
    const error = await failure(latin1);
    expect(error.message).toMatch(/not UTF-8 text \(line 3 /);
    expect(error.message).toContain('CSV UTF-8');
    expect(error.line).toBe(3);
  });

  it('refuses a file cut in the middle of a character, and UTF-16 big-endian', async () => {
    expect((await failure(Buffer.from([0x61, 0x0a, 0xc3]))).message).toMatch(/ends in the middle of a character/);
    expect((await failure(Buffer.from([0xfe, 0xff, 0x00, 0x61]))).message).toMatch(/UTF-16 big-endian/);
  });

  it('refuses an unbalanced quote with the row where it is found', async () => {
    const error = await failure('email,name\na@b.org,"Ann\nc@d.org,Bob\n');
    expect(error.message).toMatch(/quote opened at row 2 .*never closed/);
    expect(error.row).toBe(2);
  });

  it('refuses a quote in the middle of an unquoted value, and characters after a closing quote', async () => {
    expect((await failure('a,b\n1,ab"c\n')).message).toMatch(/row 2 .*quote appears in the middle/);
    expect((await failure('a,b\n1,"ab"c\n')).message).toMatch(/row 2 .*followed by other characters/);
  });

  it('stops at an enormous line instead of reading the whole file into memory, and never echoes the value', async () => {
    const secret = '123-45-6789';
    const huge = `a,b\n1,2\n${secret}${'x'.repeat(400_000)},3\n`;
    const error = await failure(huge);
    expect(error.message).toMatch(/row 3 .*longer than 256 KiB/);
    expect(error.message).not.toContain(secret);
  });

  it('skips rows for a resumed import', async () => {
    const reader = new CsvReader(pieces('h\n1\n2\n3\n4\n'));
    await reader.read(1);
    expect(await reader.skip(2)).toBe(2);
    expect(await reader.read(10)).toEqual([
      { row: 4, cells: ['3'] },
      { row: 5, cells: ['4'] },
    ]);
  });
});
