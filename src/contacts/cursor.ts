import { invalidField } from '../http/problem.ts';

/**
 * Opaque keyset cursors: the last row's sort values, base64url JSON. Clients pass them back
 * untouched; a cursor from another listing or sort is refused instead of silently skipping rows.
 */
export function encodeCursor(kind: string, values: (string | number | null)[]): string {
  return Buffer.from(JSON.stringify([kind, ...values])).toString('base64url');
}

export function decodeCursor(kind: string, cursor: string, arity: number, field = 'after'): (string | number | null)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed[0] !== kind || parsed.length !== arity + 1) {
    throw invalidField(field, 'is not a cursor of this listing and sort; pass nextCursor from the previous page unchanged');
  }
  const values = parsed.slice(1);
  if (!values.every((v) => v === null || typeof v === 'string' || typeof v === 'number')) {
    throw invalidField(field, 'is not a valid cursor');
  }
  return values as (string | number | null)[];
}
