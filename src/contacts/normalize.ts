import { z } from 'zod';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

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

// Longer inputs are not phone numbers; the cap also bounds the parser's work.
const MAX_PHONE_INPUT = 40;

export type ParsedPhone = { e164: string } | { error: 'invalid' | 'extension' };

/**
 * The one phone parser every path uses (contact writes, applications, imports, duplicate
 * matching), so equal numbers always meet: libphonenumber with its full metadata, national
 * numbers ("06 12 34 56 78") read in the institution's default region. Landlines are accepted:
 * the field is for matching and contact, and refusing a real number would only push people to
 * leave it out.
 */
export function parsePhone(raw: string, defaultRegion: CountryCode = 'US'): ParsedPhone {
  if (raw.length > MAX_PHONE_INPUT) return { error: 'invalid' };
  const key = `${defaultRegion} ${raw}`;
  const known = recentlyParsed.get(key);
  if (known) return known;
  const result = Object.freeze(parseWithMetadata(raw, defaultRegion));
  if (recentlyParsed.size >= RECENT_PHONES) recentlyParsed.clear();
  recentlyParsed.set(key, result);
  return result;
}

// One write parses its number twice (duplicate matching, then the stored form), and parsing with
// the full metadata is one of the dearer steps of a create: the second parse is answered from here.
const RECENT_PHONES = 256;
const recentlyParsed = new Map<string, ParsedPhone>();

function parseWithMetadata(raw: string, defaultRegion: CountryCode): ParsedPhone {
  const parsed = parsePhoneNumberFromString(raw.trim(), defaultRegion);
  if (!parsed || !parsed.isValid()) return { error: 'invalid' };
  if (parsed.ext) return { error: 'extension' };
  return { e164: parsed.number };
}

/** The E.164 form of a phone number, or null when it is not a valid number in `defaultRegion`'s reading. */
export function mobileToE164(raw: string, defaultRegion: CountryCode = 'US'): string | null {
  const parsed = parsePhone(raw, defaultRegion);
  return 'e164' in parsed ? parsed.e164 : null;
}
