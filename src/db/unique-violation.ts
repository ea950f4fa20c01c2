/**
 * True when a write lost a race on a unique constraint (both engines), so a service can answer
 * 409 instead of 500 when two requests create the same thing at once.
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
