import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import { newId } from '../../src/ids.ts';

/**
 * Inserts `count` plain contacts straight into the table (500 per statement), for tests that need
 * a set to work on rather than the API that creates one. Contact `i` is `${prefix}${i}@${domain}`.
 */
export async function insertContacts(
  db: Kysely<Database>,
  institutionId: string,
  count: number,
  opts: { prefix: string; domain?: string; createdAt: string; organizationId?: string | null },
): Promise<string[]> {
  const ids: string[] = [];
  const at = Date.parse(opts.createdAt);
  const domain = opts.domain ?? 'seed.example';
  for (let from = 0; from < count; from += 500) {
    const rows = Array.from({ length: Math.min(500, count - from) }, (_, k) => {
      const i = from + k;
      const id = newId(at + i);
      ids.push(id);
      const email = `${opts.prefix}${i}@${domain}`;
      return {
        id, institution_id: institutionId, organization_id: opts.organizationId ?? null, first_name: 'Seed', last_name: `${opts.prefix}${i}`, first_name_folded: 'seed', last_name_folded: `${opts.prefix}${i}`.toLowerCase(),
        email, email_normalized: email.toLowerCase(), mobile_phone: null, mobile_e164: null, ssn_hash_full: null, ssn_hash_last6: null, ssn_hash_last4: null,
        employer_id: null, owner_user_id: null, visibility: 'everyone' as const, approval_status: 'approved' as const, source: 'api' as const, opt_in_status: 'unknown' as const,
        opt_in_changed_at: null, created_at: opts.createdAt, updated_at: opts.createdAt,
      };
    });
    await db.insertInto('contacts').values(rows).execute();
  }
  return ids;
}
