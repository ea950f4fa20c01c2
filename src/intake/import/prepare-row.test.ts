import { describe, expect, it } from 'vitest';
import { autoMapHeaders } from '../rules/csv-mapping.ts';
import { ssnHashes } from '../rules/normalize.ts';
import { foldName } from '../../contacts/normalize.ts';
import { foldNameFast, planColumns, prepareRow, type ImportAttribute, type PrepareContext } from './prepare-row.ts';

const key = Buffer.alloc(32, 7);
const program: ImportAttribute = { id: 'attr-program', key: 'program', label: 'Program', type: 'choice', options: ['Law', 'Medicine'] };
const year: ImportAttribute = { id: 'attr-year', key: 'year', label: 'Year', type: 'number', options: null };
const headers = ['First name', 'Last name', 'Email', 'Mobile', 'SSN', 'Employer', 'Organization', 'Program', 'Year'];
const ctx: PrepareContext = {
  mapping: autoMapHeaders(headers, [program, year].map((a) => ({ key: a.key, label: a.label! }))),
  attributes: new Map([
    ['program', program],
    ['year', year],
  ]),
  organizations: new Map([
    ['org-1', 'org-1'],
    ['alumni', 'org-1'],
  ]),
  defaultRegion: 'FR',
  piiHashKey: key,
};
const plan = planColumns(ctx);
const prepare = (cells: string[]) => prepareRow(ctx, plan, 7, cells);

describe('prepareRow', () => {
  it('normalises a full row the way every intake path does, keeping the SSN only as keyed hashes', () => {
    const row = prepare(['  Zoé ', "d'Arcy-Smith", ' Zoe@Example.ORG ', '06 12 34 56 78', '123-45-6789', ' Acme  Corp ', 'Alumni', 'law', '3']);
    expect(row.kind).toBe('ok');
    if (row.kind !== 'ok') return;
    const hashes = ssnHashes(key, '123456789');
    expect(row.contact).toMatchObject({
      first_name: 'Zoé',
      first_name_folded: 'zoe',
      last_name: "d'Arcy-Smith",
      last_name_folded: 'darcy smith',
      email: 'Zoe@Example.ORG',
      email_normalized: 'zoe@example.org',
      mobile_phone: '06 12 34 56 78',
      mobile_e164: '+33612345678',
      ssn_hash_full: hashes.full,
      ssn_hash_last6: hashes.last6,
      ssn_hash_last4: hashes.last4,
      employer: { name: 'Acme Corp', folded: 'acme corp' },
      organizationId: 'org-1',
    });
    expect(row.contact.attributes.map((a) => [a.attribute.key, a.value.valueText])).toEqual([
      ['program', 'Law'],
      ['year', '3'],
    ]);
    expect(JSON.stringify(row)).not.toContain('6789');
    expect(row.candidate).toEqual({ emailNormalized: 'zoe@example.org', mobileE164: '+33612345678', lastNameFolded: 'darcy smith', ssnHashFull: hashes.full, ssnHashLast6: hashes.last6, ssnHashLast4: hashes.last4 });
  });

  it('lists every problem of a row, naming the field and never the rejected value', () => {
    const row = prepare(['', 'Doe', 'not-an-email', '12', '666-12-3456', '', 'Nowhere', 'Dentistry', 'many', 'extra']);
    expect(row.kind).toBe('invalid');
    if (row.kind !== 'invalid') return;
    expect(row.errors.map((e) => e.field)).toEqual(['row', 'firstName', 'email', 'mobilePhone', 'ssn', 'organization', 'attributes.program', 'attributes.year']);
    expect(row.row).toBe(7);
    expect(JSON.stringify(row.errors)).not.toMatch(/666|not-an-email|Nowhere|Dentistry/);
  });

  it('treats blank cells as not given, a row of blanks as blank, and fewer cells than columns as blanks', () => {
    expect(prepare(['Ann', 'Lee', ' ', '', '', '', '', '', '']).kind).toBe('ok');
    expect(prepare(['Ann', 'Lee']).kind).toBe('ok');
    expect(prepare([' ', '', '', '', '', '', '', '', '']).kind).toBe('blank');
    expect(prepare(['Ann', 'Lee', '', '', '', '', '', '', '', '', '']).kind).toBe('ok'); // trailing empty cells
  });

  it('folds ASCII names on a fast path that gives exactly foldName', () => {
    for (const name of ['Smith', '  Van   der  Berg ', 'ALL CAPS', 'a', '']) expect(foldNameFast(name)).toBe(foldName(name));
    expect(foldNameFast('Lefèvre–D’Arcy')).toBe(foldName('Lefèvre–D’Arcy'));
  });
});
