import { describe, it, expect } from 'vitest';
import { applyMappingOverride, autoMapHeaders, type ColumnMapping } from './csv-mapping.ts';

const targets = (mapping: ColumnMapping[]) => mapping.map((column) => column.target);

describe('autoMapHeaders', () => {
  it.each([
    ['First Name', 'firstName'],
    ['first_name', 'firstName'],
    ['FIRSTNAME', 'firstName'],
    ['Given name', 'firstName'],
    ['Prénom', 'firstName'],
    ['prenom', 'firstName'],
    ['Last Name', 'lastName'],
    ['Surname', 'lastName'],
    ['Family name', 'lastName'],
    ['Nom', 'lastName'],
    ['Nom de famille', 'lastName'],
    ['E-mail', 'email'],
    ['Email Address', 'email'],
    ['Mail', 'email'],
    ['Courriel', 'email'],
    ['Phone', 'mobilePhone'],
    ['Mobile', 'mobilePhone'],
    ['Cell', 'mobilePhone'],
    ['Mobile_Phone', 'mobilePhone'],
    ['Téléphone', 'mobilePhone'],
    ['SSN', 'ssn'],
    ['Social Security Number', 'ssn'],
    ['Employer', 'employer'],
    ['Company', 'employer'],
    ['Organisation', 'organization'],
    ['  email  ', 'email'],
  ])('maps %j to %s', (header, target) => {
    expect(autoMapHeaders([header])[0].target).toBe(target);
  });

  it('maps custom attributes by key or label, after standard fields', () => {
    const attributes = [
      { key: 'season_ticket', label: 'Season ticket holder' },
      { key: 'email', label: 'Work email' },
    ];
    expect(targets(autoMapHeaders(['Season Ticket', 'season ticket holder', 'E-mail', 'Work E-mail', 'Notes'], attributes))).toEqual([
      'attr:season_ticket',
      null, // the first column already took it
      'email',
      'attr:email',
      null,
    ]);
  });

  it('leaves unknown and ambiguous headers unmapped, and a repeated field to its first column', () => {
    expect(autoMapHeaders(['Name', 'Email', 'email', ''])).toEqual([
      { index: 0, header: 'Name', target: null },
      { index: 1, header: 'Email', target: 'email' },
      { index: 2, header: 'email', target: null },
      { index: 3, header: '', target: null },
    ]);
  });
});

describe('applyMappingOverride', () => {
  const auto = autoMapHeaders(['Prénom', 'Nom', 'Mail', 'Work mail', 'Tier']);
  const attributes = [{ key: 'tier', label: 'Tier' }];

  it('applies overrides, including skipping a column', () => {
    const result = applyMappingOverride(auto, { Mail: null, 'Work mail': 'email', Tier: 'attr:tier' }, attributes);
    expect(result).toEqual({
      ok: true,
      mapping: [
        { index: 0, header: 'Prénom', target: 'firstName' },
        { index: 1, header: 'Nom', target: 'lastName' },
        { index: 2, header: 'Mail', target: null },
        { index: 3, header: 'Work mail', target: 'email' },
        { index: 4, header: 'Tier', target: 'attr:tier' },
      ],
    });
    expect(targets(auto)).toEqual(['firstName', 'lastName', 'email', null, null]); // the automatic mapping is not mutated
  });

  it('refuses an unknown target field, naming the header', () => {
    expect(applyMappingOverride(auto, { Tier: 'loyalty' }, attributes)).toEqual({
      ok: false,
      errors: [{ header: 'Tier', message: 'Column "Tier" is mapped to "loyalty", which is not a contact field or attribute.' }],
    });
    expect(applyMappingOverride(auto, { Tier: 'attr:unknown' }, attributes).ok).toBe(false);
  });

  it('refuses two headers mapped to one field', () => {
    expect(applyMappingOverride(auto, { 'Work mail': 'email' })).toEqual({
      ok: false,
      errors: [{ header: 'Work mail', message: 'Columns "Mail", "Work mail" are all mapped to email; map only one of them.' }],
    });
  });

  it('refuses headers the file does not have, or has twice, and reports every error at once', () => {
    const twice = autoMapHeaders(['Email', 'Notes', 'Notes']);
    const result = applyMappingOverride(twice, { Phone: 'mobilePhone', Notes: 'employer', Email: 'fax' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => e.header)).toEqual(['Phone', 'Notes', 'Email']);
      expect(result.errors[1].message).toMatch(/2 columns named "Notes"/);
    }
  });
});
