import { randomBytes } from 'node:crypto';
import { keyedHash } from '../security/server-secret.ts';

/** Bearer secrets (sessions, API tokens) are 256-bit random values; only their keyed hash is stored. */
export function newSecretToken(prefix: 'ls' | 'lt'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashSecretToken(tokenKey: Buffer, token: string): string {
  return keyedHash(tokenKey, token);
}

/** CSRF value bound to one session: derivable, so nothing more is stored. */
export function csrfTokenFor(tokenKey: Buffer, sessionToken: string): string {
  return keyedHash(tokenKey, `csrf:${sessionToken}`);
}
