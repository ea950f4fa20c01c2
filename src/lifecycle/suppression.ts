import type { AppContext, Db } from '../context.ts';
import type { SuppressionKind } from '../db/schema.ts';
import { keyedHash } from '../security/server-secret.ts';
import { readLifecycleSettings } from './settings.ts';

/**
 * The suppression list: keyed hashes (HMAC with the server's PII key) of the email and mobile
 * number of people who were expunged, kept only when the institution turns the list on. A hash
 * cannot be read back, but the same address hashes alike, so an import or application bringing
 * the person back is recognised and reported instead of silently recreating them.
 */
export interface Reachable {
  email: string | null;
  mobileE164: string | null;
}

/** Bound to the kind, so an email and a phone number never collide. */
export function suppressionHash(piiHashKey: Buffer, kind: SuppressionKind, value: string): string {
  return keyedHash(piiHashKey, `suppression:${kind}:${kind === 'email' ? value.trim().toLowerCase() : value.trim()}`);
}

function hashesOf(piiHashKey: Buffer, who: Reachable): { kind: SuppressionKind; hash: string }[] {
  const out: { kind: SuppressionKind; hash: string }[] = [];
  if (who.email?.trim()) out.push({ kind: 'email', hash: suppressionHash(piiHashKey, 'email', who.email) });
  if (who.mobileE164?.trim()) out.push({ kind: 'mobile', hash: suppressionHash(piiHashKey, 'mobile', who.mobileE164) });
  return out;
}

/** Adds the people's hashes in the caller's (erasure) transaction. */
export async function addToSuppressionList(ctx: Pick<AppContext, 'secrets'>, trx: Db, institutionId: string, people: Reachable[], now: string): Promise<number> {
  const rows = people.flatMap((p) => hashesOf(ctx.secrets.piiHashKey, p)).map((h) => ({ institution_id: institutionId, kind: h.kind, value_hash: h.hash, created_at: now }));
  if (rows.length === 0) return 0;
  for (let i = 0; i < rows.length; i += 500) {
    await trx.insertInto('suppression_entries').values(rows.slice(i, i + 500)).onConflict((oc) => oc.doNothing()).execute();
  }
  return rows.length;
}

export type SuppressionCheck = (people: Reachable[]) => Promise<boolean[]>;

/**
 * A checker for many people at once (imports), or null when the institution does not keep the
 * list, so callers skip the work entirely.
 */
export async function suppressionCheckFor(ctx: Pick<AppContext, 'secrets'>, db: Db, institutionId: string): Promise<SuppressionCheck | null> {
  if (!(await readLifecycleSettings(db, institutionId)).suppressionList) return null;
  return async (people) => {
    const hashed = people.map((p) => hashesOf(ctx.secrets.piiHashKey, p));
    const all = [...new Set(hashed.flat().map((h) => h.hash))];
    const found = new Set<string>();
    for (let i = 0; i < all.length; i += 500) {
      const rows = await db
        .selectFrom('suppression_entries')
        .select('value_hash')
        .where('institution_id', '=', institutionId)
        .where('value_hash', 'in', all.slice(i, i + 500))
        .execute();
      for (const r of rows) found.add(r.value_hash);
    }
    return hashed.map((hs) => hs.some((h) => found.has(h.hash)));
  };
}

/** Whether this email or mobile number belongs to an expunged person (false when the list is off). */
export async function isSuppressed(ctx: Pick<AppContext, 'secrets'>, db: Db, institutionId: string, who: Reachable): Promise<boolean> {
  const check = await suppressionCheckFor(ctx, db, institutionId);
  return check ? (await check([who]))[0] : false;
}
