import fs from 'node:fs';
import path from 'node:path';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Every keyed hash and wrapped key derives from one server secret. The embedded default
 * generates it on first start and keeps it beside the database (mode 0600); with PostgreSQL
 * every process must be given the same LETHE_SECRET.
 */
export interface ServerSecrets {
  /** wraps per-subject data keys (crypto-shredding) */
  masterKey: Buffer;
  /** HMAC key for tokens, session ids and CSRF values */
  tokenKey: Buffer;
  /** HMAC key for SSN hashes and other matching-only hashes of PII */
  piiHashKey: Buffer;
  /** signs links sent to contacts */
  linkKey: Buffer;
}

function derive(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `lethe:${purpose}`, 32));
}

export function secretsFrom(secret: string): ServerSecrets {
  return {
    masterKey: derive(secret, 'master-key'),
    tokenKey: derive(secret, 'token'),
    piiHashKey: derive(secret, 'pii-hash'),
    linkKey: derive(secret, 'link'),
  };
}

export class MissingSecretError extends Error {
  constructor() {
    super(
      'LETHE_SECRET is not set. With DATABASE_URL (PostgreSQL) every process must share one secret: ' +
        'generate one with `openssl rand -hex 32` and set LETHE_SECRET in every process environment.',
    );
  }
}

/** The configured secret, or the embedded default's file; null when there is neither. */
export function existingServerSecret(opts: { secret?: string; dataDir: string }): string | null {
  if (opts.secret) return opts.secret;
  const file = path.join(opts.dataDir, 'secret.key');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : null;
}

export function loadServerSecret(opts: { secret?: string; dataDir: string; embedded: boolean }): string {
  if (opts.secret) return opts.secret;
  if (!opts.embedded) throw new MissingSecretError();
  const existing = existingServerSecret(opts);
  if (existing) return existing;
  const file = path.join(opts.dataDir, 'secret.key');
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const generated = randomBytes(32).toString('hex');
  fs.writeFileSync(file, generated + '\n', { mode: 0o600, flag: 'wx' });
  return generated;
}

export function keyedHash(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}
