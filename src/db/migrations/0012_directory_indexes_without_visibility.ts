import type { Kysely } from 'kysely';

/**
 * The directory's three sort indexes (last name, first name, creation date) no longer carry the
 * visibility columns (visibility, approval_status, owner_user_id).
 *
 * Carrying them let a directory walk skip contacts the viewer may not see without reading their
 * rows, but every change of visibility or approval (reject, approve, archive, bulk updates) then
 * rewrote an entry in each of the three indexes, at the contact's place in name order: a bulk
 * change of 100,000 of 1,000,000 contacts dirtied nearly every leaf page of all three, ~655,000
 * WAL frames, and the raw UPDATE alone could not reach 12,000 contacts/s. Now such a change writes
 * the contact's row and nothing else (the same raw UPDATE: 44,000–58,000/s), and the directory
 * reads each candidate's row to check what the viewer may see: at 1,000,000 contacts the slowest
 * kind of directory query (a last-name prefix and an attribute, as an employer user) went from
 * 3.8 to 10.0 ms at p99, within its 20 ms target (docs/benchmarks.md).
 *
 * contacts_created keeps organization_id at its end (0011): the inactive-contact batch's snapshot
 * still reads it from the index alone.
 */
const directoryIndexes = {
  contacts_last_name: ['institution_id', 'last_name_folded', 'id'],
  contacts_first_name: ['institution_id', 'first_name_folded', 'id'],
  contacts_created: ['institution_id', 'created_at', 'id', 'organization_id'],
};
const visibilityColumns = ['visibility', 'approval_status', 'owner_user_id'];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, columns] of Object.entries(directoryIndexes)) {
    await db.schema.dropIndex(name).execute();
    await db.schema.createIndex(name).on('contacts').columns(columns).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name, columns] of Object.entries(directoryIndexes)) {
    const withVisibility = name === 'contacts_created' ? [...columns.slice(0, 3), ...visibilityColumns, 'organization_id'] : [...columns, ...visibilityColumns];
    await db.schema.dropIndex(name).execute();
    await db.schema.createIndex(name).on('contacts').columns(withVisibility).execute();
  }
}
