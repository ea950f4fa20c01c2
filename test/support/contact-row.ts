import type { Contact } from '../../src/db/schema.ts';

/**
 * A complete `contacts` row with plain values (no email, phone, SSN, employer or owner), for tests
 * that write rows straight into the table or need one as input: `over` sets what the test is about.
 */
export function contactRow(over: Partial<Contact> = {}): Contact {
  return {
    id: 'c1',
    institution_id: 'i1',
    organization_id: null,
    first_name: 'Ann',
    last_name: 'Lee',
    first_name_folded: 'ann',
    last_name_folded: 'lee',
    email: null,
    email_normalized: null,
    mobile_phone: null,
    mobile_e164: null,
    ssn_hash_full: null,
    ssn_hash_last6: null,
    ssn_hash_last4: null,
    employer_id: null,
    owner_user_id: null,
    visibility: 'everyone',
    approval_status: 'approved',
    source: 'manual',
    opt_in_status: 'unknown',
    opt_in_changed_at: null,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}
