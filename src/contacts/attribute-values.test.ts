import { describe, expect, it } from 'vitest';
import {
  attributeKeyPattern,
  attributeValueOf,
  canonicalNumber,
  checkAttributeValue,
  checkChoiceOptions,
  checkRangeBound,
  epochDays,
  type AttributeShape,
} from './attribute-values.ts';

const text: AttributeShape = { type: 'text', options: null };
const number: AttributeShape = { type: 'number', options: null };
const boolean: AttributeShape = { type: 'boolean', options: null };
const date: AttributeShape = { type: 'date', options: null };
const choice: AttributeShape = { type: 'choice', options: ['Engineering', 'Law', 'Médecine'] };

describe('checkAttributeValue', () => {
  it.each<[AttributeShape, unknown, string, number | null]>([
    [text, '  hello ', 'hello', null],
    [number, 42, '42', 42],
    [number, '42.50', '42.5', 42.5],
    [number, ' -0 ', '0', 0],
    [number, 1e21, '1000000000000000000000', 1e21],
    [number, '1e-7', '0.0000001', 1e-7],
    [number, '.5', '0.5', 0.5],
    [boolean, true, 'true', null],
    [boolean, false, 'false', null],
    [boolean, 'TRUE', 'true', null],
    [boolean, 'false', 'false', null],
    [date, '2024-02-29', '2024-02-29', 19782],
    [date, '1970-01-01', '1970-01-01', 0],
    [date, '1969-12-31', '1969-12-31', -1],
    [choice, 'law', 'Law', null],
    [choice, ' Médecine ', 'Médecine', null],
  ])('%o accepts %j as %j', (shape, raw, valueText, valueNumber) => {
    expect(checkAttributeValue(shape, raw)).toEqual({ ok: true, value: { valueText, valueNumber } });
  });

  it.each<[AttributeShape, unknown, RegExp]>([
    [text, 12, /text/],
    [text, '   ', /empty/],
    [text, 'x'.repeat(2001), /2000/],
    [number, 'twelve', /number/],
    [number, '', /number/],
    [number, Number.NaN, /number/],
    [number, Number.POSITIVE_INFINITY, /number/],
    [number, '1e999', /number/],
    [number, true, /number/],
    [boolean, 'yes', /true or false/],
    [boolean, 1, /true or false/],
    [date, '2023-02-29', /YYYY-MM-DD/],
    [date, '2024-13-01', /YYYY-MM-DD/],
    [date, '24-01-01', /YYYY-MM-DD/],
    [date, '2024-01-01T00:00:00Z', /YYYY-MM-DD/],
    [date, 20240101, /YYYY-MM-DD/],
    [choice, 'Art', /one of: Engineering, Law, Médecine/],
    [choice, 3, /one of/],
    [{ type: 'choice', options: null }, 'x', /one of/],
  ])('%o refuses %j', (shape, raw, message) => {
    const checked = checkAttributeValue(shape, raw);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.message).toMatch(message);
  });

  it('gives every number one canonical spelling', () => {
    for (const [a, b] of [['10', '10.0'], ['1e3', '1000'], ['0.10', '.1'], ['-0', '0']]) {
      const x = checkAttributeValue(number, a);
      const y = checkAttributeValue(number, b);
      expect(x.ok && y.ok && x.value.valueText === y.value.valueText).toBe(true);
    }
  });
});

describe('canonicalNumber', () => {
  it('round-trips and never uses an exponent', () => {
    for (const n of [0, 1, -1, 0.1, 0.30000000000000004, 123456789.125, 1e21, 2.5e25, 1e-7, -4.5e-10, Number.MAX_SAFE_INTEGER, 5e-324]) {
      const text = canonicalNumber(n);
      expect(text).not.toMatch(/e/i);
      expect(Number(text)).toBe(n);
    }
  });
});

describe('epochDays', () => {
  it('counts days from 1970-01-01 and refuses impossible dates', () => {
    expect(epochDays('2000-03-01')).toBe(11017);
    expect(epochDays('2100-02-29')).toBeNull();
    expect(epochDays('2000-02-30')).toBeNull();
  });
});

describe('checkRangeBound', () => {
  it('reads numbers and dates, refuses other types', () => {
    expect(checkRangeBound(number, '2.5')).toEqual({ ok: true, value: 2.5 });
    expect(checkRangeBound(date, '1970-01-11')).toEqual({ ok: true, value: 10 });
    expect(checkRangeBound(text, 'a').ok).toBe(false);
    expect(checkRangeBound(choice, 'Law').ok).toBe(false);
    expect(checkRangeBound(number, 'x').ok).toBe(false);
  });
});

describe('attributeValueOf', () => {
  it('returns the typed API value', () => {
    expect(attributeValueOf('number', '42.5', 42.5)).toBe(42.5);
    expect(attributeValueOf('boolean', 'true', null)).toBe(true);
    expect(attributeValueOf('boolean', 'false', null)).toBe(false);
    expect(attributeValueOf('date', '2024-01-01', 19723)).toBe('2024-01-01');
    expect(attributeValueOf('choice', 'Law', null)).toBe('Law');
  });
});

describe('choice options and keys', () => {
  it('need at least one non-empty option, none repeated ignoring case', () => {
    expect(checkChoiceOptions([' A ', 'B'])).toEqual({ ok: true, value: ['A', 'B'] });
    expect(checkChoiceOptions([]).ok).toBe(false);
    expect(checkChoiceOptions(null).ok).toBe(false);
    expect(checkChoiceOptions(['A', ' ']).ok).toBe(false);
    expect(checkChoiceOptions(['Yes', 'yes'])).toEqual({ ok: false, message: 'option "yes" is listed twice' });
  });

  it.each([
    ['program', true],
    ['do_not_email', true],
    ['a1', true],
    ['Program', false],
    ['1st', false],
    ['has-dash', false],
    ['has.dot', false],
    ['', false],
    ['a'.repeat(65), false],
  ])('key %j valid: %s', (key, ok) => expect(attributeKeyPattern.test(key)).toBe(ok));
});
