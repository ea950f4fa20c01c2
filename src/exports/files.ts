import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AppContext, Db } from '../context.ts';
import { open, seal } from '../security/aead.ts';
import { keyedHash } from '../security/server-secret.ts';

/** Export files live in LETHE_DATA_DIR/exports, named by export id only (no PII in a file name), mode 0600. */
export function exportsDir(ctx: Pick<AppContext, 'config'>): string {
  return path.join(ctx.config.dataDir, 'exports');
}

export function exportFilePath(ctx: Pick<AppContext, 'config'>, exportId: string): string {
  return path.join(exportsDir(ctx), `${exportId}.lxe`);
}

export function removeFile(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** A fresh key for one file, stored wrapped by the master key (bound to the export id). */
export async function createFileKey(ctx: AppContext, db: Db, exportId: string): Promise<Buffer> {
  const key = randomBytes(32);
  const wrapped = seal(ctx.secrets.masterKey, key, `export-key:${exportId}`);
  const now = ctx.clock.now().toISOString();
  await db
    .insertInto('export_keys')
    .values({ export_id: exportId, wrapped_key: wrapped, created_at: now })
    .onConflict((oc) => oc.column('export_id').doUpdateSet({ wrapped_key: wrapped, created_at: now }))
    .execute();
  return key;
}

export async function readFileKey(ctx: AppContext, db: Db, exportId: string): Promise<Buffer | null> {
  const row = await db.selectFrom('export_keys').select('wrapped_key').where('export_id', '=', exportId).executeTakeFirst();
  return row ? open(ctx.secrets.masterKey, row.wrapped_key, `export-key:${exportId}`) : null;
}

export async function deleteFileKey(db: Db, exportId: string): Promise<void> {
  await db.deleteFrom('export_keys').where('export_id', '=', exportId).execute();
}

/** One-time link tokens: 256 random bits; only a keyed hash is stored. */
export function newLinkToken(): string {
  return `lx_${randomBytes(32).toString('base64url')}`;
}

export const linkTokenPattern = /^lx_[A-Za-z0-9_-]{43}$/;

export function hashLinkToken(ctx: Pick<AppContext, 'secrets'>, token: string): string {
  return keyedHash(ctx.secrets.tokenKey, `export-link:${token}`);
}

export function downloadUrl(ctx: Pick<AppContext, 'config'>, token: string): string {
  return `${ctx.config.publicUrl}/exports/download/${token}`;
}
