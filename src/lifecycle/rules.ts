import type { ApprovalStatus } from '../db/schema.ts';

/**
 * The lifecycle of a contact (seeds 000 and 001) as plain decisions: given what the contact is
 * now, may an action run, is it already done (idempotent), or is it refused, and why.
 */
export const lifecycleActions = ['disable', 'restore', 'archive', 'unarchive', 'reject', 'approve', 'delete', 'expunge'] as const;
export type LifecycleAction = (typeof lifecycleActions)[number];

/** What a contact id stands for now. `erased` is known from the audit log once the row is gone. */
export type LifecycleState =
  | { exists: false; erased: 'deleted' | 'expunged' | null }
  | { exists: true; disabled: boolean; approval: ApprovalStatus; archived: boolean };

export type Decision =
  | { kind: 'apply' }
  | { kind: 'noop'; why: string }
  | { kind: 'refuse'; status: 404 | 409 | 410; why: string };

const apply: Decision = { kind: 'apply' };
const noop = (why: string): Decision => ({ kind: 'noop', why });
const refuse = (status: 404 | 409 | 410, why: string): Decision => ({ kind: 'refuse', status, why });

const disabledWhy = 'The contact is disabled (its account was deleted); restore it first.';
const rejectedWhy = 'The contact is rejected, so its data is frozen; approve it first.';

export function decide(action: LifecycleAction, state: LifecycleState): Decision {
  if (!state.exists) {
    if (state.erased === null) return refuse(404, 'Contact was not found.');
    const erasedWhy = `The contact was ${state.erased}; there is nothing left to act on.`;
    if (action === 'expunge') return state.erased === 'expunged' ? noop('The contact was already expunged.') : apply; // shreds what delete kept
    if (action === 'delete') return noop(`The contact was already ${state.erased}.`);
    return refuse(410, erasedWhy);
  }
  switch (action) {
    case 'delete':
    case 'expunge':
      return apply;
    case 'disable':
      return state.disabled ? noop('The contact is already disabled.') : apply;
    case 'restore':
      return state.disabled ? apply : noop('The contact is not disabled.');
    case 'archive':
      if (state.disabled) return refuse(409, disabledWhy);
      if (state.approval === 'rejected') return refuse(409, rejectedWhy);
      return state.archived ? noop('The contact is already archived.') : apply;
    case 'unarchive':
      if (state.disabled) return refuse(409, disabledWhy);
      if (state.approval === 'rejected') return refuse(409, rejectedWhy);
      return state.archived ? apply : noop('The contact is not archived.');
    case 'reject':
      if (state.disabled) return refuse(409, disabledWhy);
      return state.approval === 'rejected' ? noop('The contact is already rejected.') : apply;
    case 'approve':
      if (state.disabled) return refuse(409, disabledWhy);
      return state.approval === 'approved' ? noop('The contact is already approved.') : apply;
  }
}

/** Consent belongs to the person: withdrawing it is never blocked by a lifecycle state. */
const consentFields = new Set(['optInStatus', 'authorizations']);

/**
 * Why an edit of a contact's data (profile fields, notes, meetings, tasks) is refused, or null.
 * A disabled contact is out of use until restored; a rejected one is frozen except for the
 * approval decision itself (seed 001: "freeze the Contact data in case you want to approve them").
 */
export function editRefusal(state: { disabled: boolean; approval: ApprovalStatus }, changedFields: readonly string[]): string | null {
  const data = changedFields.filter((f) => !consentFields.has(f));
  if (state.disabled && data.length) return 'The contact is disabled (its account was deleted); restore it before changing it.';
  if (state.approval === 'rejected' && data.some((f) => f !== 'approvalStatus')) {
    return 'The contact is rejected, so its data is frozen; approve it before changing anything else.';
  }
  return null;
}

/** The webhook event an applied action announces, if any (ids only leave the system). */
export function eventOf(action: LifecycleAction): 'contact.deleted' | 'contact.expunged' | 'contact.restored' | null {
  if (action === 'delete' || action === 'disable') return 'contact.deleted';
  if (action === 'expunge') return 'contact.expunged';
  if (action === 'restore') return 'contact.restored';
  return null;
}

/** Permission each action needs besides contacts.read (a role without it gets 403). */
export const actionPermission = {
  disable: 'contacts.write',
  restore: 'contacts.write',
  archive: 'contacts.write',
  unarchive: 'contacts.write',
  reject: 'contacts.write',
  approve: 'contacts.write',
  delete: 'contacts.delete',
  expunge: 'contacts.expunge',
} as const satisfies Record<LifecycleAction, string>;
