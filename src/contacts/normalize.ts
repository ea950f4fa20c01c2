import { z } from 'zod';

/**
 * Normalisation shared by storage, the directory and (later) duplicate matching: a value is
 * folded once on write and every search term goes through the same function, so they meet.
 */

// Letters that Unicode does not decompose into a base letter plus a mark.
const letterFolds: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
};
const foldableLetters = new RegExp(`[${Object.keys(letterFolds).join('')}]`, 'g');
// Replaced before NFKD: some of these (´) decompose into a space plus a mark.
const apostrophes = /['\u2018\u2019\u201B\u02BC\u02BB\u0060\u00B4\u2032\uFF07]/g;
const hyphens = /[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uFE63\uFF0D]/g;
const invisible = /[\u00AD\u200B-\u200D\u2060\uFEFF]/g;

/**
 * Case-, accent- and spacing-insensitive form of a name: "  Éloïse  D’Arcy-Smith " and
 * "eloise darcy smith" fold alike. Apostrophes vanish (O'Brien = OBrien) and hyphens become
 * spaces (Jean-Pierre = Jean Pierre), which is how people retype names.
 */
export function foldName(raw: string): string {
  return raw
    .replace(apostrophes, '')
    .replace(invisible, '')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(foldableLetters, (m) => letterFolds[m])
    .replace(hyphens, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** Trimmed, inner whitespace collapsed: how a name is stored for display. */
export function tidyName(raw: string): string {
  return raw.replace(invisible, '').replace(/\s+/gu, ' ').trim();
}

const emailFormat = z.email();

/** Lower-cased, trimmed email, or null when it is not an address. */
export function normalizeEmail(raw: string): string | null {
  const value = raw.trim().toLowerCase();
  if (value.length > 254) return null;
  return emailFormat.safeParse(value).success ? value : null;
}

/** The folded form of an email used as a search key, without validating it (a filter may be partial). */
export function emailSearchKey(raw: string): string {
  return raw.trim().toLowerCase();
}

const phoneCharacters = /^\+?[\d\s().\-/]+$/;

/** True when the input looks like a phone number someone typed (digits and the usual separators). */
export function isPlausiblePhone(raw: string): boolean {
  const digits = raw.replace(/\D/g, '');
  return raw.length <= 40 && phoneCharacters.test(raw.trim()) && digits.length >= 4 && digits.length <= 20;
}

/**
 * The E.164 form of a mobile number, or null when it cannot be known. For now only numbers
 * already written internationally (+ and 8 to 15 digits, separators allowed) qualify; the
 * intake issue swaps this one function for libphonenumber with the institution's default region.
 */
export function mobileToE164(raw: string, _defaultRegion?: string | null): string | null {
  const compact = raw.trim().replace(/[\s().\-/]/g, '');
  return /^\+[1-9]\d{7,14}$/.test(compact) ? compact : null;
}
