import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvFormatError, CsvReader } from '../../src/intake/import/csv-reader.ts';
import { MappingOptionError, parseMappingOption } from '../../src/intake/import/mapping-option.ts';
import { planColumns, prepareRow, type ImportAttribute, type PrepareContext } from '../../src/intake/import/prepare-row.ts';
import { applyMappingOverride, autoMapHeaders, CONTACT_FIELDS } from '../../src/intake/rules/csv-mapping.ts';

/** The import's reading and row checks on arbitrary files: every problem is a row error or a CsvFormatError naming where, never a crash. */

const RUNS = 200;

async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
    if (cut <= at) continue;
    yield Buffer.from(bytes.subarray(at, cut));
    at = cut;
  }
}

/** Reads everything; returns the records, or the CsvFormatError that stopped the read. Any other error fails the property. */
async function readAll(bytes: Uint8Array, cuts: number[]): Promise<{ rows: number[]; failure: CsvFormatError | null }> {
  const reader = new CsvReader(chunked(bytes, cuts), 4096);
  const rows: number[] = [];
  try {
    for (;;) {
      const batch = await reader.read(50);
      if (batch.length === 0) return { rows, failure: null };
      rows.push(...batch.map((r) => r.row));
    }
  } catch (error) {
    if (!(error instanceof CsvFormatError)) throw error;
    return { rows, failure: error };
  }
}

const cell = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('"', '""', ',', '\n', '\r\n', '\r', '"a,b"', '"unclosed', '\uFEFF', 'é', '\u0000', ' '));
const csvText = fc.array(fc.array(cell, { maxLength: 6 }), { maxLength: 20 }).map((rows) => rows.map((r) => r.join(',')).join('\n'));

describe('CSV reading under arbitrary files', () => {
  it('arbitrary bytes in arbitrary chunks: records in order, or a CsvFormatError naming a row or line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 600 }), csvText.map((t) => new TextEncoder().encode(t))), fc.array(fc.nat(), { maxLength: 5 }), async (bytes, cuts) => {
        const { rows, failure } = await readAll(bytes, cuts);
        // Row numbers are spreadsheet rows: consecutive from 1 (the header).
        expect(rows).toEqual(rows.map((_, i) => i + 1));
        if (failure) {
          expect(failure.row ?? failure.line).not.toBeNull();
          expect(failure.message).toMatch(/line|row|record|UTF|quote|characters/i);
        }
      }),
      // Found by this property: a file starting with stray continuation bytes made the UTF-8 check loop forever.
      { numRuns: RUNS, examples: [[Uint8Array.from([0xb2, 0xab, 0x97, 0xdf, 0xa2]), []]] },
    );
  });

  it('the same file read in any chunking gives the same records or the same failure', async () => {
    await fc.assert(
      fc.asyncProperty(csvText, fc.array(fc.nat(), { maxLength: 6 }), async (text, cuts) => {
        const bytes = new TextEncoder().encode(text);
        const whole = await readAll(bytes, []);
        const pieces = await readAll(bytes, cuts);
        expect(pieces.rows).toEqual(whole.rows);
        expect(pieces.failure?.message).toEqual(whole.failure?.message);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('import row checks under arbitrary cells', () => {
  const program: ImportAttribute = { id: 'a1', key: 'program', label: 'Program', type: 'choice', options: ['MBA', 'MSc'] };
  const year: ImportAttribute = { id: 'a2', key: 'year', label: 'Year', type: 'number', options: null };
  const headers = ['First name', 'Last name', 'Email', 'Mobile', 'SSN', 'Employer', 'Organization', 'program', 'year'];
  const refs = [program, year].map((a) => ({ key: a.key, label: a.label! }));
  const mapping = autoMapHeaders(headers, refs);
  const ctx: PrepareContext = {
    mapping,
    attributes: new Map([
      ['program', program],
      ['year', year],
    ]),
    organizations: new Map([['career services', 'org-1']]),
    defaultRegion: 'US',
    piiHashKey: Buffer.alloc(32, 7),
  };
  const plan = planColumns(ctx);
  const value = fc.oneof(fc.string({ maxLength: 30 }), fc.emailAddress(), fc.stringMatching(/^\+?[0-9 ()-]{0,16}$/), fc.constantFrom('', '  ', 'MBA', '2024', 'Career Services', '123-45-6789', '\u0000', 'x'.repeat(300)));

  it('never throws: a row is ok, blank, or invalid with every error naming its field', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 12 }), fc.integer({ min: 2, max: 1_000_000 }), (cells, row) => {
        const prepared = prepareRow(ctx, plan, row, cells);
        expect(prepared.row).toBe(row);
        if (prepared.kind === 'invalid') {
          expect(prepared.errors.length).toBeGreaterThan(0);
          for (const e of prepared.errors) {
            expect(e.field).toMatch(/^(row|firstName|lastName|email|mobilePhone|ssn|employer|organization|attributes\.program|attributes\.year)$/);
            expect(e.message.length).toBeGreaterThan(0);
          }
        }
        if (prepared.kind === 'ok') expect(prepared.contact.first_name.trim()).not.toBe('');
      }),
      { numRuns: RUNS },
    );
  });

  it('mapping options: parsed, or refused with a MappingOptionError; overrides report errors by header', () => {
    const target = fc.oneof(fc.constantFrom(...CONTACT_FIELDS, 'attr:program', 'attr:nope', '', '-', 'skip'), fc.string({ maxLength: 10 }));
    const option = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...headers), fc.string({ maxLength: 8 })), target), { maxLength: 5 }).map((pairs) => pairs.map(([h, t]) => `${h}=${t}`).join(',')),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(option, (text) => {
        let override;
        try {
          override = parseMappingOption(text);
        } catch (error) {
          expect(error).toBeInstanceOf(MappingOptionError);
          return;
        }
        const result = applyMappingOverride(mapping, override, refs);
        if (!result.ok) for (const e of result.errors) expect(e.message).toContain(e.header);
      }),
      { numRuns: RUNS },
    );
  });
});
