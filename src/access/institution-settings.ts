import type { z } from 'zod';
import type { Db } from '../context.ts';
import { notFound } from '../http/problem.ts';
import { compiledOnce } from '../db/compiled-once.ts';
import { engineOf } from '../db/engine.ts';

// Read by most requests (rules, regions, policies): compiled once.
const settingsOf = compiledOnce((db, p: { institutionId: string }) => db.selectFrom('institutions').select('settings').where('id', '=', p.institutionId));

/**
 * An institution's settings are one JSON document; each domain owns one key and the zod schema
 * for it (intake: "intake", lifecycle: "lifecycle"…), so a domain adds settings without touching
 * the others. A stored value that no longer fits its schema falls back to the schema's defaults.
 */
export async function readSetting<S extends z.ZodType>(db: Db, institutionId: string, key: string, schema: S): Promise<z.infer<S>> {
  const row = await settingsOf.executeTakeFirst(db, { institutionId });
  if (!row) throw notFound('Institution');
  const all = JSON.parse(row.settings || '{}') as Record<string, unknown>;
  const parsed = schema.safeParse(all[key] ?? {});
  return parsed.success ? parsed.data : schema.parse({});
}

/** Replaces one key, in the caller's transaction (read-modify-write of the document under a row lock on PostgreSQL). */
export async function writeSetting<S extends z.ZodType>(db: Db, institutionId: string, key: string, schema: S, value: z.input<S>, lock = true): Promise<z.infer<S>> {
  const parsed = schema.parse(value);
  let query = db.selectFrom('institutions').select('settings').where('id', '=', institutionId);
  if (lock && engineOf(db) === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw notFound('Institution');
  const all = JSON.parse(row.settings || '{}') as Record<string, unknown>;
  all[key] = parsed;
  await db.updateTable('institutions').set({ settings: JSON.stringify(all) }).where('id', '=', institutionId).execute();
  return parsed;
}
