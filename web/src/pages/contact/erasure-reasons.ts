import type { ErasureReason } from '../../types.ts';

/** Erasure reasons are codes: their audit entry outlives the contact, so no free text. */
export const ERASURE_REASONS: [ErasureReason, string][] = [
  ['staff_decision', 'Staff decision'],
  ['contact_request', 'The person asked for it'],
  ['no_consent', 'No consent'],
  ['retention', 'Retention period over'],
  ['duplicate', 'Duplicate record'],
  ['other', 'Other'],
];
