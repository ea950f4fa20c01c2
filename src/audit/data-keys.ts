import { randomBytes } from 'node:crypto';
import type { Db } from '../context.ts';
import { open, seal } from '../security/aead.ts';

/**
 * One data key per subject (contact or user). PII written to the audit log is sealed with it;
 * destroying the key makes every copy of that subject's entries unreadable (crypto-shredding).
 */
export async function dataKeyFor(
  db: Db,
  masterKey: Buffer,
  subjectId: string,
  institutionId: string | null,
  now: string,
  /** fresh: the subject is new, so the look-up is skipped (the insert still yields to a stored key) */
  opts: { fresh?: boolean } = {},
): Promise<Buffer> {
  if (!opts.fresh) {
    const existing = await db.selectFrom('data_keys').select('wrapped_key').where('subject_id', '=', subjectId).executeTakeFirst();
    if (existing) return open(masterKey, existing.wrapped_key, subjectId);
  }
  const key = randomBytes(32);
  const inserted = await db
    .insertInto('data_keys')
    .values({ subject_id: subjectId, institution_id: institutionId, wrapped_key: seal(masterKey, key, subjectId), created_at: now })
    .onConflict((oc) => oc.column('subject_id').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return key;
  // Another writer won the race; the stored key is the one to use.
  const stored = await db.selectFrom('data_keys').select('wrapped_key').where('subject_id', '=', subjectId).executeTakeFirstOrThrow();
  return open(masterKey, stored.wrapped_key, subjectId);
}

export async function existingDataKey(db: Db, masterKey: Buffer, subjectId: string): Promise<Buffer | null> {
  const row = await db.selectFrom('data_keys').select('wrapped_key').where('subject_id', '=', subjectId).executeTakeFirst();
  return row ? open(masterKey, row.wrapped_key, subjectId) : null;
}

/** Irreversible: the subject's sealed audit data can never be read again. */
export async function destroyDataKey(db: Db, subjectId: string): Promise<boolean> {
  const result = await db.deleteFrom('data_keys').where('subject_id', '=', subjectId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
