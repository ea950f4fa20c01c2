/**
 * A prefix search as a half-open range [p, p + U+10FFFF): an index range scan on both engines
 * (folded columns compare byte-wise: SQLite's BINARY, PostgreSQL's "C"), where LIKE would not be.
 * U+10FFFF sorts after every other code point in UTF-8 byte order, so no match is cut off.
 */
export function prefixRange(prefix: string): [string, string] {
  return [prefix, prefix + '\u{10FFFF}'];
}
