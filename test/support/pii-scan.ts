import fs from 'node:fs';
import path from 'node:path';

/**
 * Finding personal data in log lines: the values the tests feed the app (SSNs, emails, phone
 * numbers, first and last names) are read from the test sources themselves, so a value added to a
 * test is watched without anyone listing it; values made at run time (tenant admins' and users'
 * addresses) are noted by the harness (test/support/log-capture.ts).
 */

const SSN = /\b\d{3}-\d{2}-\d{4}\b/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const NAME_OR_SSN_OR_PHONE = /\b(firstName|lastName|first_name|last_name|ssn|mobilePhone|phone|mobile_phone)\s*:\s*(['"`])([^'"`\n$]{1,80})\2/g;
const PHONE = /\+\d[\d ().-]{6,}\d/g;

/** Words that appear as names in tests but also in the app's own log messages, routes or stack traces. */
const notNames = new Set(['test', 'user', 'admin', 'staff', 'contact', 'import', 'imported', 'row', 'person', 'fixture', 'new', 'same', 'name', 'created', 'export', 'error', 'job', 'none', 'null', 'true', 'false', 'undefined', 'public', 'code', 'mail', 'request', 'route', 'status']);

function addVariants(out: Set<string>, value: string): void {
  const v = value.trim();
  if (v.length < 3) return;
  out.add(v);
  const digits = v.replace(/\D/g, '');
  // The normalised forms an SSN or a phone number takes once parsed (9 digits; E.164).
  if (digits.length >= 9 && digits.length <= 15 && /^[\d ()+.-]+$/.test(v)) {
    out.add(digits);
    if (v.startsWith('+')) out.add(`+${digits}`);
  }
}

/** The personal values written in these source texts. */
export function piiInSource(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(SSN)) addVariants(out, m[0]);
  for (const m of text.matchAll(EMAIL)) out.add(m[0]);
  for (const m of text.matchAll(PHONE)) addVariants(out, m[0]);
  for (const m of text.matchAll(NAME_OR_SSN_OR_PHONE)) {
    const [, key, , value] = m;
    if (/name/i.test(key)) {
      // A name is searched as a whole word; generic words and very short names would match the app's own text.
      if (value.trim().length >= 3 && !notNames.has(value.trim().toLowerCase()) && isName(value.trim())) out.add(value.trim());
    } else if (/\d/.test(value)) addVariants(out, value); // not `ssn: 'full'`, a duplicate rule's setting
  }
  return out;
}

/** Test sources under the given folders: every *.test.ts and everything in test/support. */
export function testSourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.test\.tsx?$/.test(entry.name) || (full.includes(`${path.sep}test${path.sep}support${path.sep}`) && entry.name.endsWith('.ts'))) out.push(full);
    }
  };
  for (const top of ['src', 'test']) if (fs.existsSync(path.join(root, top))) walk(path.join(root, top));
  return out.sort();
}

export function piiInTestSources(root: string): Set<string> {
  const out = new Set<string>();
  for (const file of testSourceFiles(root)) for (const v of piiInSource(fs.readFileSync(file, 'utf8'))) out.add(v);
  return out;
}

export interface PiiHit {
  /** 1-based line in the scanned text */
  line: number;
  value: string;
  /** the test file that wrote the line, when the log marks it */
  testFile?: string;
  excerpt: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Names (letters only) are matched as written: "Mail" the surname is not "mail" the word. Addresses, numbers and the rest ignore case. */
const isName = (v: string) => /^[\p{L}’' .-]+$/u.test(v);

function tokenPattern(values: string[], flags: string): RegExp | null {
  if (!values.length) return null;
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${values.map(escape).join('|')})(?![\\p{L}\\p{N}])`, flags);
}

/**
 * Every occurrence of any value in the text, as a whole token (not inside a longer run of letters
 * or digits, so an SSN's digits inside a hash or an id do not count). Lines of the form
 * {"testFile": "..."} mark which test file wrote the lines after them.
 */
export function scanText(text: string, values: Iterable<string>): PiiHit[] {
  const list = [...new Set(values)].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
  const patterns = [tokenPattern(list.filter(isName), 'gu'), tokenPattern(list.filter((v) => !isName(v)), 'giu')].filter((p): p is RegExp => p !== null);
  if (!patterns.length) return [];
  const hits: PiiHit[] = [];
  let testFile: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('{"testFile":')) {
      testFile = (JSON.parse(line) as { testFile: string }).testFile;
      continue;
    }
    for (const pattern of patterns) {
      for (const m of line.matchAll(pattern)) {
        const at = m.index ?? 0;
        hits.push({ line: i + 1, value: m[0], testFile, excerpt: line.slice(Math.max(0, at - 60), at + m[0].length + 60) });
      }
    }
  }
  return hits;
}

/** Scans every file in a folder of captured logs; the hits name file:line. */
export function scanLogDir(dir: string, values: Iterable<string>): (PiiHit & { file: string })[] {
  const list = [...values];
  const out: (PiiHit & { file: string })[] = [];
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    const file = path.join(dir, name);
    for (const hit of scanText(fs.readFileSync(file, 'utf8'), list)) out.push({ ...hit, file });
  }
  return out;
}

export function formatHits(hits: (PiiHit & { file?: string })[]): string {
  return hits
    .slice(0, 50)
    .map((h) => `  ${h.file ? `${h.file}:` : 'line '}${h.line}${h.testFile ? ` (written by ${h.testFile})` : ''}: "${h.value}" in …${h.excerpt}…`)
    .join('\n')
    .concat(hits.length > 50 ? `\n  … and ${hits.length - 50} more` : '');
}
