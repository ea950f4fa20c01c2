import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * One Kysely table type per table; every query is typed from these.
 * Conventions shared by both engines:
 *  - ids are UUIDv7 text (src/ids.ts), except append-only logs, which use a generated integer `seq`;
 *  - timestamps are ISO-8601 UTC strings (timestamptz on PostgreSQL, text on SQLite);
 *  - booleans are 0/1 integers; JSON is stored as text.
 */
export type Timestamp = string;
export type Flag = 0 | 1;

export const orgTiers = ['free', 'scaled', 'mid_market', 'enterprise'] as const;
export type OrgTier = (typeof orgTiers)[number];
export const platformRoles = ['support', 'csm'] as const;
export type PlatformRole = (typeof platformRoles)[number];
export const visibilities = ['everyone', 'staff_only', 'owner_only'] as const;
export type Visibility = (typeof visibilities)[number];
export const approvalStatuses = ['pending', 'approved', 'rejected'] as const;
export type ApprovalStatus = (typeof approvalStatuses)[number];
export const contactSources = ['self_signup', 'application', 'manual', 'bulk_import', 'api'] as const;
export type ContactSource = (typeof contactSources)[number];
export const optInStatuses = ['unknown', 'opted_in', 'opted_out'] as const;
export type OptInStatus = (typeof optInStatuses)[number];
export const attributeTypes = ['text', 'number', 'boolean', 'date', 'choice'] as const;
export type AttributeType = (typeof attributeTypes)[number];

export interface InstitutionsTable {
  id: string;
  name: string;
  slug: string;
  settings: string; // JSON
  created_at: Timestamp;
}

export interface OrganizationsTable {
  id: string;
  institution_id: string;
  name: string;
  tier: OrgTier;
  email_domains: string; // JSON array of lower-case domains
  csm_user_id: string | null;
  contract_ends_at: Timestamp | null;
  created_at: Timestamp;
}

export interface RolesTable {
  id: string;
  institution_id: string;
  key: string;
  name: string;
  permissions: string; // JSON array of Permission
  builtin: Flag;
  created_at: Timestamp;
}

export interface UsersTable {
  id: string;
  /** null for platform users (support, CSM), who reach across tenants */
  institution_id: string | null;
  organization_id: string | null;
  email: string;
  name: string;
  password_hash: string;
  role_id: string | null;
  platform_role: PlatformRole | null;
  site_access: Flag;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SessionsTable {
  /** sha256 of the cookie value; the value itself is never stored */
  id: string;
  user_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface ApiTokensTable {
  id: string;
  institution_id: string;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface EmployersTable {
  id: string;
  institution_id: string;
  name: string;
  name_folded: string;
  created_at: Timestamp;
}

export interface ContactsTable {
  /** UUIDv7 minted from created_at (newId(Date.parse(created_at))), so id order is creation order */
  id: string;
  institution_id: string;
  /** the organization that created the contact; the contact itself belongs to the institution */
  organization_id: string | null;
  first_name: string;
  last_name: string;
  first_name_folded: string;
  last_name_folded: string;
  email: string | null;
  email_normalized: string | null;
  mobile_phone: string | null;
  mobile_e164: string | null;
  ssn_hash_full: string | null;
  ssn_hash_last6: string | null;
  ssn_hash_last4: string | null;
  employer_id: string | null;
  owner_user_id: string | null;
  visibility: Visibility;
  approval_status: ApprovalStatus;
  source: ContactSource;
  opt_in_status: OptInStatus;
  opt_in_changed_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ContactEmploymentsTable {
  id: string;
  institution_id: string;
  contact_id: string;
  employer_id: string;
  started_at: Timestamp;
  ended_at: Timestamp | null;
}

export interface AttributeDefinitionsTable {
  id: string;
  institution_id: string;
  key: string;
  label: string;
  type: AttributeType;
  options: string | null; // JSON array for choice
  created_at: Timestamp;
}

export interface ContactAttributeValuesTable {
  contact_id: string;
  attribute_id: string;
  institution_id: string;
  /** canonical text form of every type, so one index serves equality on any attribute */
  value_text: string;
  value_number: number | null;
}

export interface ContactAuthorizationsTable {
  contact_id: string;
  institution_id: string;
  purpose: string;
  granted: Flag;
  updated_at: Timestamp;
}

export interface ContactNotesTable {
  id: string;
  institution_id: string;
  contact_id: string;
  author_user_id: string | null;
  body: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ContactMeetingsTable {
  id: string;
  institution_id: string;
  contact_id: string;
  author_user_id: string | null;
  title: string;
  scheduled_at: Timestamp;
  notes: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ContactTasksTable {
  id: string;
  institution_id: string;
  contact_id: string;
  author_user_id: string | null;
  title: string;
  due_at: Timestamp | null;
  done: Flag;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ActivityEventsTable {
  seq: Generated<number>;
  institution_id: string;
  contact_id: string;
  organization_id: string | null;
  actor_user_id: string | null;
  type: string;
  occurred_at: Timestamp;
  data: string | null; // JSON, never PII in clear beyond what the contact row holds
}

export interface AuditLogTable {
  seq: Generated<number>;
  /** '' for platform-level entries; each institution has its own hash chain */
  chain: string;
  institution_id: string | null;
  actor_user_id: string | null;
  actor_label: string;
  action: string;
  target_type: string;
  target_id: string | null;
  /** the subject whose data key encrypts before/after */
  subject_id: string | null;
  before_enc: string | null;
  after_enc: string | null;
  meta: string | null; // JSON, no PII
  occurred_at: Timestamp;
  prev_hash: string;
  hash: string;
}

export interface AuditChainHeadsTable {
  chain: string;
  last_seq: number;
  last_hash: string;
  /** hash that the oldest retained entry points back to (moves forward when old entries are purged) */
  anchor_hash: string;
}

export interface DataKeysTable {
  subject_id: string;
  institution_id: string | null;
  /** the data key, wrapped (AES-256-GCM) with the server's master key */
  wrapped_key: string;
  created_at: Timestamp;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  /** 0 while the first request is still running */
  status_code: number;
  /** the created resource, so erasing it also erases the stored response */
  resource_id: string | null;
  response_body: string;
  created_at: Timestamp;
}

export const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof jobStatuses)[number];

export interface JobsTable {
  id: string;
  institution_id: string | null;
  kind: string;
  status: JobStatus;
  payload: string; // JSON
  /** where a resumable job got to: a restarted worker continues from here */
  checkpoint: string | null;
  progress_done: number;
  progress_total: number | null;
  result: string | null; // JSON
  error: string | null;
  attempts: number;
  max_attempts: number;
  run_after: Timestamp;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: Timestamp | null;
}

export const mailCategories = ['transactional', 'marketing'] as const;
export type MailCategory = (typeof mailCategories)[number];
/** held: kept in the outbox because no SMTP server is configured; refused: not sent by policy (do-not-email…) */
export const outboxStatuses = ['pending', 'sending', 'sent', 'failed', 'held', 'refused'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

export interface OutboxMessagesTable {
  id: string;
  institution_id: string | null;
  contact_id: string | null;
  category: MailCategory;
  template: string;
  /** PII: scrubbed once the message has left (or is erased with the contact) */
  to_address: string | null;
  subject: string | null;
  text_body: string | null;
  html_body: string | null;
  message_id: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Timestamp;
  lease_expires_at: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
}

export interface Database {
  jobs: JobsTable;
  outbox_messages: OutboxMessagesTable;
  institutions: InstitutionsTable;
  organizations: OrganizationsTable;
  roles: RolesTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  employers: EmployersTable;
  contacts: ContactsTable;
  contact_employments: ContactEmploymentsTable;
  attribute_definitions: AttributeDefinitionsTable;
  contact_attribute_values: ContactAttributeValuesTable;
  contact_authorizations: ContactAuthorizationsTable;
  contact_notes: ContactNotesTable;
  contact_meetings: ContactMeetingsTable;
  contact_tasks: ContactTasksTable;
  activity_events: ActivityEventsTable;
  audit_log: AuditLogTable;
  audit_chain_heads: AuditChainHeadsTable;
  data_keys: DataKeysTable;
  idempotency_keys: IdempotencyKeysTable;
}

export type Contact = Selectable<ContactsTable>;
export type NewContact = Insertable<ContactsTable>;
export type ContactUpdate = Updateable<ContactsTable>;
export type User = Selectable<UsersTable>;
export type Organization = Selectable<OrganizationsTable>;
export type Institution = Selectable<InstitutionsTable>;
export type Role = Selectable<RolesTable>;
