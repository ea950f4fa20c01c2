import { randomBytes } from 'node:crypto';
import type { Db } from '../context.ts';
import { open, seal } from '../security/aead.ts';
import { compiledOnce } from '../db/compiled-once.ts';

const storedKey = compiledOnce((db, p: { subjectId: string }) => db.selectFrom('data_keys').select('wrapped_key').where('subject_id', '=', p.subjectId));
const insertKey = compiledOnce((db, p: { subjectId: string; institutionId: string | null; wrappedKey: string; now: string }) =>
  db
    .insertInto('data_keys')
    .values({ subject_id: p.subjectId, institution_id: p.institutionId, wrapped_key: p.wrappedKey, created_at: p.now })
    .onConflict((oc) => oc.column('subject_id').doNothing()),
);

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
    const existing = await existingDataKey(db, masterKey, subjectId);
    if (existing) return existing;
  }
  const key = randomBytes(32);
  const inserted = await insertKey.execute(db, { subjectId, institutionId, wrappedKey: seal(masterKey, key, subjectId), now });
  if (Number(inserted.numAffectedRows ?? 0) === 1) return key;
  // Another writer won the race; the stored key is the one to use.
  return (await existingDataKey(db, masterKey, subjectId))!;
}

export async function existingDataKey(db: Db, masterKey: Buffer, subjectId: string): Promise<Buffer | null> {
  const row = await storedKey.executeTakeFirst(db, { subjectId });
  return row ? open(masterKey, row.wrapped_key, subjectId) : null;
}

/** Irreversible: the subject's sealed audit data can never be read again. */
export async function destroyDataKey(db: Db, subjectId: string): Promise<boolean> {
  const result = await db.deleteFrom('data_keys').where('subject_id', '=', subjectId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
