import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { openStream, SEGMENT_BYTES, sealStream } from './sealed-file.ts';
import { canMove } from './state.ts';
import { csvCell, csvLine } from './archive.ts';

async function seal(key: Buffer, data: Buffer, binding = 'e1', chunk = 10_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
  return buffer(Readable.from(parts).pipe(sealStream(key, binding)));
}

const open = (key: Buffer, sealed: Buffer, binding = 'e1') => buffer(Readable.from([sealed]).pipe(openStream(key, binding)));

describe('sealed export files (segmented AES-256-GCM)', () => {
  const key = randomBytes(32);

  it.each([0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES * 3 + 17])('round-trips %i bytes', async (size) => {
    const data = randomBytes(size);
    const sealed = await seal(key, data);
    expect(sealed.includes(data.subarray(0, Math.min(64, size))) && size >= 16).toBe(false);
    expect((await open(key, sealed)).equals(data)).toBe(true);
  });

  it('refuses a wrong key, another export id, a flipped bit, a cut-off end and reordered segments', async () => {
    const data = randomBytes(SEGMENT_BYTES * 2 + 100);
    const sealed = await seal(key, data);
    await expect(open(randomBytes(32), sealed)).rejects.toThrow();
    await expect(open(key, sealed, 'e2')).rejects.toThrow();
    const flipped = Buffer.from(sealed);
    flipped[100] ^= 1;
    await expect(open(key, flipped)).rejects.toThrow();
    const segment = 4 + SEGMENT_BYTES + 16;
    await expect(open(key, sealed.subarray(0, 4 + segment))).rejects.toThrow(/incomplete/);
    const swapped = Buffer.concat([sealed.subarray(0, 4), sealed.subarray(4 + segment, 4 + 2 * segment), sealed.subarray(4, 4 + segment), sealed.subarray(4 + 2 * segment)]);
    await expect(open(key, swapped)).rejects.toThrow();
  });
});

describe('CSV cells', () => {
  it('quotes separators and neutralises formulas, but leaves phone numbers and negative numbers alone', () => {
    expect(csvLine(['a,b', 'say "hi"', null, 3, true])).toBe('"a,b","say ""hi""",,3,true\r\n');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('+1 (555) 010-0000')).toBe('+1 (555) 010-0000');
    expect(csvCell('-12.5')).toBe('-12.5');
    expect(csvCell('-cmd|calc')).toBe("'-cmd|calc");
    expect(csvCell({ newsletter: { granted: true } })).toBe('"{""newsletter"":{""granted"":true}}"');
  });

  it('pins every kind of cell: formulas by their first character only, line breaks and quotes quoted, nulls empty', () => {
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvCell('\rcmd')).toBe(`"'\rcmd"`);
    expect(csvCell('line 1\nline 2')).toBe('"line 1\nline 2"');
    expect(csvCell('a=b, @c')).toBe('"a=b, @c"');
    expect(csvCell('+')).toBe('+');
    expect(csvCell('+33 6 12 34 56 78')).toBe('+33 6 12 34 56 78');
    expect(csvCell('+SUM(A1)')).toBe("'+SUM(A1)");
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('Björn Müller')).toBe('Björn Müller');
    expect(csvCell('')).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(0)).toBe('0');
    expect(csvCell(false)).toBe('false');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(['=x', 'y'])).toBe('"[""=x"",""y""]"');
    expect(csvLine([])).toBe('\r\n');
    expect(csvLine(['=cmd', null, undefined, 'ok'])).toBe("'=cmd,,,ok\r\n");
  });
});

describe('export state machine', () => {
  it('allows only the documented transitions', () => {
    expect(canMove('submitted', 'awaiting_approval')).toBe(true);
    expect(canMove('awaiting_approval', 'approved')).toBe(true);
    expect(canMove('approved', 'producing')).toBe(true);
    expect(canMove('producing', 'ready')).toBe(true);
    expect(canMove('ready', 'downloaded')).toBe(true);
    expect(canMove('ready', 'expired')).toBe(true);
    expect(canMove('downloaded', 'destroyed')).toBe(true);
    expect(canMove('expired', 'destroyed')).toBe(true);
    expect(canMove('awaiting_approval', 'producing')).toBe(false);
    expect(canMove('submitted', 'ready')).toBe(false);
    expect(canMove('destroyed', 'ready')).toBe(false);
    expect(canMove('refused', 'approved')).toBe(false);
    expect(canMove('downloaded', 'ready')).toBe(false);
  });
});
