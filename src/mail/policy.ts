import type { Db } from '../context.ts';

/**
 * Why a contact must not receive marketing mail, or null when they may. Transactional mail
 * (codes, erasure confirmations) never passes through here.
 */
export async function marketingRefusal(db: Db, contactId: string): Promise<string | null> {
  return (await marketingRefusals(db, [contactId])).get(contactId) ?? null;
}

/**
 * marketingRefusal for many contacts in one statement (a worker's batch of workflow emails): the
 * contacts that must not receive marketing mail, each with why. Callers keep the list short
 * (a few hundred ids: one bound parameter each).
 */
export async function marketingRefusals(db: Db, contactIds: readonly string[]): Promise<Map<string, string>> {
  const refusals = new Map<string, string>(contactIds.map((id) => [id, 'the contact no longer exists']));
  if (contactIds.length === 0) return refusals;
  const contacts = await db
    .selectFrom('contacts as c')
    .select((eb) => [
      'c.id',
      'c.opt_in_status',
      eb.exists(eb.selectFrom('disabled_contacts as x').select('x.contact_id').whereRef('x.contact_id', '=', 'c.id')).as('disabled'),
      // The "Inactive / Do not email" attribute archiving sets (src/lifecycle/archive.ts), however it was set.
      eb
        .exists(
          eb
            .selectFrom('contact_attribute_values as v')
            .innerJoin('attribute_definitions as d', 'd.id', 'v.attribute_id')
            .select('v.contact_id')
            .whereRef('v.contact_id', '=', 'c.id')
            .where('d.key', '=', 'do_not_email')
            .where('v.value_text', '=', 'true'),
        )
        .as('do_not_email'),
    ])
    .where('c.id', 'in', contactIds)
    .execute();
  for (const c of contacts) {
    if (c.opt_in_status === 'opted_out') refusals.set(c.id, 'the contact opted out');
    else if (c.disabled) refusals.set(c.id, 'the contact is disabled (account deleted)');
    else if (c.do_not_email) refusals.set(c.id, 'the contact is marked "do not email"');
    else refusals.delete(c.id);
  }
  return refusals;
}
