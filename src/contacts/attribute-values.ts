import type { AttributeType } from '../db/schema.ts';

/**
 * Typed custom-attribute values, stored as one canonical text per value (so a single index
 * serves equality on every attribute) plus a number for ranges on numbers and dates.
 */
export interface AttributeShape {
  type: AttributeType;
  /** the allowed values of a choice attribute, in their stored spelling */
  options: readonly string[] | null;
}

export interface StoredValue {
  valueText: string;
  valueNumber: number | null;
}

export type AttributeValue = string | number | boolean;

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

export const attributeKeyPattern = /^[a-z][a-z0-9_]{0,63}$/;
export const maxTextValueLength = 2000;
const numberText = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const dateText = /^(\d{4})-(\d{2})-(\d{2})$/;
const msPerDay = 86_400_000;

/** Shortest round-trip decimal without exponent: 1e21 → "1000000000000000000000", 1e-7 → "0.0000001". */
export function canonicalNumber(n: number): string {
  if (Object.is(n, -0) || n === 0) return '0';
  const text = String(n);
  const exp = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!exp) return text;
  const [, sign, lead, rest = '', power] = exp;
  const digits = lead + rest;
  const point = 1 + Number(power);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Days since 1970-01-01 for a valid calendar date "YYYY-MM-DD", or null. */
export function epochDays(text: string): number | null {
  const m = dateText.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return ms / msPerDay;
}

function toNumber(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : null;
  if (typeof raw === 'string' && numberText.test(raw.trim())) {
    const n = Number(raw.trim());
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/**
 * Validates a value against its definition and returns its stored form. Accepts JSON values and
 * their text spellings ("42", "true", as a query string or a CSV cell carries them).
 */
export function checkAttributeValue(shape: AttributeShape, raw: unknown): Checked<StoredValue> {
  switch (shape.type) {
    case 'text': {
      if (typeof raw !== 'string') return { ok: false, message: 'must be text' };
      const value = raw.trim();
      if (!value) return { ok: false, message: 'must not be empty (send null to remove the value)' };
      if (value.length > maxTextValueLength) return { ok: false, message: `must be at most ${maxTextValueLength} characters` };
      return { ok: true, value: { valueText: value, valueNumber: null } };
    }
    case 'number': {
      const n = toNumber(raw);
      if (n === null) return { ok: false, message: 'must be a number' };
      // -0 and 0 are one value.
      return { ok: true, value: { valueText: canonicalNumber(n), valueNumber: n === 0 ? 0 : n } };
    }
    case 'boolean': {
      const b = typeof raw === 'boolean' ? raw : typeof raw === 'string' ? { true: true, false: false }[raw.trim().toLowerCase()] : undefined;
      if (b === undefined) return { ok: false, message: 'must be true or false' };
      return { ok: true, value: { valueText: String(b), valueNumber: null } };
    }
    case 'date': {
      const days = typeof raw === 'string' ? epochDays(raw.trim()) : null;
      if (days === null) return { ok: false, message: 'must be a date written YYYY-MM-DD' };
      return { ok: true, value: { valueText: (raw as string).trim(), valueNumber: days } };
    }
    case 'choice': {
      const options = shape.options ?? [];
      const wanted = typeof raw === 'string' ? raw.trim().toLowerCase() : null;
      // Case-insensitive, so "yes" from a form matches the option "Yes"; the option's spelling is stored.
      const option = wanted === null ? undefined : options.find((o) => o.toLowerCase() === wanted);
      if (option === undefined) return { ok: false, message: `must be one of: ${options.join(', ')}` };
      return { ok: true, value: { valueText: option, valueNumber: null } };
    }
  }
}

/** The bound of a range filter (gte/lte): a number, or a date as epoch days. */
export function checkRangeBound(shape: AttributeShape, raw: string): Checked<number> {
  if (shape.type !== 'number' && shape.type !== 'date') return { ok: false, message: 'ranges apply to number and date attributes only' };
  const checked = checkAttributeValue(shape, raw);
  return checked.ok ? { ok: true, value: checked.value.valueNumber! } : checked;
}

/** The API form of a stored value. */
export function attributeValueOf(type: AttributeType, valueText: string, valueNumber: number | null): AttributeValue {
  if (type === 'number') return valueNumber ?? Number(valueText);
  if (type === 'boolean') return valueText === 'true';
  return valueText;
}

/** Checks a choice attribute's options: at least one, each non-empty, none repeated (ignoring case). */
export function checkChoiceOptions(options: readonly string[] | null | undefined): Checked<string[]> {
  if (!options || options.length === 0) return { ok: false, message: 'a choice attribute needs at least one option' };
  const tidy = options.map((o) => o.trim());
  if (tidy.some((o) => !o)) return { ok: false, message: 'options must not be empty' };
  const seen = new Set<string>();
  for (const o of tidy) {
    const k = o.toLowerCase();
    if (seen.has(k)) return { ok: false, message: `option "${o}" is listed twice` };
    seen.add(k);
  }
  return { ok: true, value: tidy };
}
