import { describe, expect, it } from 'vitest';
import { MappingOptionError, parseMappingOption } from './mapping-option.ts';

describe('parseMappingOption', () => {
  it('reads Header=field pairs, with an empty field, - or skip leaving the column out', () => {
    expect(parseMappingOption('Surname=lastName, Cell = mobilePhone,Notes=,Junk=-,X=skip,Prog=attr:program')).toEqual({
      Surname: 'lastName',
      Cell: 'mobilePhone',
      Notes: null,
      Junk: null,
      X: null,
      Prog: 'attr:program',
    });
    expect(parseMappingOption('')).toEqual({});
    expect(parseMappingOption(undefined)).toEqual({});
  });

  it('reads a JSON object', () => {
    expect(parseMappingOption('{"E-mail address": "email", "Notes": null}')).toEqual({ 'E-mail address': 'email', Notes: null });
  });

  it('refuses what it cannot read, saying how to write it', () => {
    expect(() => parseMappingOption('Surname')).toThrow(MappingOptionError);
    expect(() => parseMappingOption('Surname')).toThrow(/Header=field/);
    expect(() => parseMappingOption('{"a": 1}')).toThrow(/field name or null/);
    expect(() => parseMappingOption('{oops')).toThrow(/not valid JSON/);
    expect(() => parseMappingOption('=email')).toThrow(/names no header/);
  });
});
