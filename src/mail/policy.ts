import type { Db } from '../context.ts';

/**
 * Why a contact must not receive marketing mail, or null when they may. Transactional mail
 * (codes, erasure confirmations) never passes through here.
 */
export async function marketingRefusal(db: Db, contactId: string): Promise<string | null> {
  const contact = await db
    .selectFrom('contacts')
    .select((eb) => [
      'opt_in_status',
      eb.exists(eb.selectFrom('disabled_contacts').select('contact_id').where('contact_id', '=', contactId)).as('disabled'),
      // The "Inactive / Do not email" attribute archiving sets (src/lifecycle/archive.ts), however it was set.
      eb
        .exists(
          eb
            .selectFrom('contact_attribute_values as v')
            .innerJoin('attribute_definitions as d', 'd.id', 'v.attribute_id')
            .select('v.contact_id')
            .where('v.contact_id', '=', contactId)
            .where('d.key', '=', 'do_not_email')
            .where('v.value_text', '=', 'true'),
        )
        .as('do_not_email'),
    ])
    .where('id', '=', contactId)
    .executeTakeFirst();
  if (!contact) return 'the contact no longer exists';
  if (contact.opt_in_status === 'opted_out') return 'the contact opted out';
  if (contact.disabled) return 'the contact is disabled (account deleted)';
  if (contact.do_not_email) return 'the contact is marked "do not email"';
  return null;
}
