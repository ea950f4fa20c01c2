import type { Db } from '../context.ts';

/**
 * Why a contact must not receive marketing mail, or null when they may. Transactional mail
 * (codes, erasure confirmations) never passes through here.
 */
export async function marketingRefusal(db: Db, contactId: string): Promise<string | null> {
  const contact = await db.selectFrom('contacts').select(['opt_in_status']).where('id', '=', contactId).executeTakeFirst();
  if (!contact) return 'the contact no longer exists';
  if (contact.opt_in_status === 'opted_out') return 'the contact opted out';
  return null;
}
