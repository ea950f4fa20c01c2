import type { AppContext, Db } from '../context.ts';
import { isSuppressed } from '../lifecycle/suppression.ts';

/**
 * Whether the suppression list (keyed hashes of expunged people's email and mobile, kept when the
 * institution turns it on; src/lifecycle) holds this applicant. Always false when the list is off.
 */
export async function suppressionCheck(
  ctx: Pick<AppContext, 'secrets'>,
  db: Db,
  institutionId: string,
  who: { email: string | null; mobileE164: string | null },
): Promise<boolean> {
  if (!who.email && !who.mobileE164) return false;
  return isSuppressed(ctx, db, institutionId, who);
}
