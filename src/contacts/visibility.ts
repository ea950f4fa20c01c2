import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Database, Visibility } from '../db/schema.ts';
import type { Permission } from '../access/permissions.ts';

/** Who is looking: what the visibility rule needs from a caller, nothing more. */
export interface Viewer {
  userId: string | null;
  seeStaffOnly: boolean;
  seeAllOwners: boolean;
}

export function viewerOf(userId: string | null, permissions: ReadonlySet<Permission>): Viewer {
  return {
    userId,
    seeStaffOnly: permissions.has('contacts.see_staff_only'),
    seeAllOwners: permissions.has('contacts.see_all_owners'),
  };
}

/** Internal jobs (imports, workflows, retention) act on every contact of their institution. */
export const systemViewer: Viewer = { userId: null, seeStaffOnly: true, seeAllOwners: true };

/**
 * The visibility rule: everyone → anyone who may read contacts; staff_only → staff who may see
 * them; owner_only → the owner, or whoever may see every owner's contacts.
 */
export function canSee(viewer: Viewer, contact: { visibility: Visibility; owner_user_id: string | null }): boolean {
  switch (contact.visibility) {
    case 'everyone':
      return true;
    case 'staff_only':
      return viewer.seeStaffOnly;
    case 'owner_only':
      return viewer.seeAllOwners || (viewer.userId !== null && contact.owner_user_id === viewer.userId);
  }
}

/**
 * Contacts whose account was deleted (soft delete, src/lifecycle). An uncorrelated `IN`: both
 * engines read the small table once per query into an in-memory set (SQLite's ephemeral index,
 * PostgreSQL's hashed subplan) instead of probing its index for every row a directory scan visits.
 */
export function isDisabled(eb: ExpressionBuilder<Database, 'contacts'>): Expression<SqlBool> {
  return eb('contacts.id', 'in', eb.selectFrom('disabled_contacts').select('disabled_contacts.contact_id'));
}

/**
 * The same rule as a where-clause on `contacts`, used by every query that reads contacts, so a
 * contact the caller may not see is simply not found (404), exactly like another tenant's.
 * Disabled contacts are seen by staff only (who may restore them).
 */
export function visibleTo(viewer: Viewer) {
  return (eb: ExpressionBuilder<Database, 'contacts'>): Expression<SqlBool> => {
    if (viewer.seeStaffOnly && viewer.seeAllOwners) return sql<SqlBool>`1 = 1`;
    const allowed: Expression<SqlBool>[] = [eb('contacts.visibility', '=', 'everyone')];
    if (viewer.seeStaffOnly) allowed.push(eb('contacts.visibility', '=', 'staff_only'));
    if (viewer.seeAllOwners) allowed.push(eb('contacts.visibility', '=', 'owner_only'));
    else if (viewer.userId !== null)
      allowed.push(eb.and([eb('contacts.visibility', '=', 'owner_only'), eb('contacts.owner_user_id', '=', viewer.userId)]));
    return viewer.seeStaffOnly ? eb.or(allowed) : eb.and([eb.or(allowed), eb.not(isDisabled(eb))]);
  };
}
