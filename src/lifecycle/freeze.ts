import type { Db } from '../context.ts';
import type { ApprovalStatus } from '../db/schema.ts';
import { Problem } from '../http/problem.ts';
import { editRefusal } from './rules.ts';

/**
 * Refuses (409, saying why) an edit of a disabled contact, or of a rejected contact's data:
 * called by the contact and related-record services before they write.
 */
export async function refuseFrozenEdit(db: Db, contact: { id: string; approval_status: ApprovalStatus }, changedFields: readonly string[]): Promise<void> {
  if (changedFields.length === 0) return;
  const disabled = await db.selectFrom('disabled_contacts').select('contact_id').where('contact_id', '=', contact.id).executeTakeFirst();
  const why = editRefusal({ disabled: Boolean(disabled), approval: contact.approval_status }, changedFields);
  if (why) throw new Problem(409, why);
}
