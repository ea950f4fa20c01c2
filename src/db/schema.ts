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

/** uploading: the file is still arriving; pending: waiting for a worker */
export const importStatuses = ['uploading', 'pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type ImportStatus = (typeof importStatuses)[number];
export const duplicatePolicies = ['skip', 'fill_empty', 'overwrite'] as const;
export type DuplicatePolicy = (typeof duplicatePolicies)[number];

export interface ImportsTable {
  id: string;
  institution_id: string;
  /** where contacts the import creates are recorded as coming from (a row's own organization column wins) */
  organization_id: string | null;
  job_id: string | null;
  created_by: string | null;
  actor_label: string;
  file_name: string;
  file_bytes: number;
  file_sha256: string;
  /** 'db': uploaded, held in import_file_chunks; 'path': a local file read in place (CLI) */
  storage: 'db' | 'path';
  file_path: string | null;
  /** JSON: header → field (or null to leave the column out), over the automatic mapping */
  mapping: string;
  /** JSON: the resolved mapping (column, header, field), once the header was read */
  columns: string | null;
  on_duplicate: DuplicatePolicy;
  status: ImportStatus;
  rows_total: number | null;
  /** the checkpoint: data rows fully handled, committed with the chunk that handled them */
  rows_done: number;
  created_count: number;
  updated_count: number;
  duplicate_count: number;
  invalid_count: number;
  suppressed_count: number;
  blank_count: number;
  error: string | null;
  created_at: Timestamp;
  started_at: Timestamp | null;
  updated_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface ImportFileChunksTable {
  import_id: string;
  seq: number;
  data: Buffer;
}

export interface ImportErrorsTable {
  import_id: string;
  /** the record's row in the file, the header being row 1 (as a spreadsheet numbers it) */
  row_number: number;
  seq: number;
  field: string;
  message: string;
}

export const possibleDuplicateStatuses = ['open', 'dismissed'] as const;
export type PossibleDuplicateStatus = (typeof possibleDuplicateStatuses)[number];

export interface PossibleDuplicatesTable {
  id: string;
  institution_id: string;
  /** contact_a_id < contact_b_id */
  contact_a_id: string;
  contact_b_id: string;
  score: number;
  reasons: string; // JSON array of reason codes and texts, no personal values
  status: PossibleDuplicateStatus;
  created_at: Timestamp;
  updated_at: Timestamp;
  dismissed_by: string | null;
  dismissed_at: Timestamp | null;
}

export const applicationMergePolicies = ['fill_empty', 'overwrite'] as const;
export type ApplicationMergePolicy = (typeof applicationMergePolicies)[number];

export interface ApplicationFormsTable {
  id: string;
  institution_id: string;
  /** the organization whose board the form belongs to; contacts it creates are recorded as coming from it */
  organization_id: string;
  /** the job board the form is published on, when it is one */
  job_board: string | null;
  name: string;
  fields: string; // JSON array of { field, required }
  /** JSON DuplicateRule overriding the institution's; null follows the institution's rule */
  duplicate_rule: string | null;
  verification_enabled: Flag;
  /** what a verified application does to the existing profile */
  merge_policy: ApplicationMergePolicy;
  active: Flag;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** created: made a new contact; attached: added to an existing one, profile untouched; pending_verification: waits for the emailed code; merged: code entered, merged per the form's policy */
export const applicationStatuses = ['created', 'attached', 'pending_verification', 'merged'] as const;
export type ApplicationStatus = (typeof applicationStatuses)[number];

export interface ApplicationsTable {
  id: string;
  institution_id: string;
  form_id: string | null;
  contact_id: string;
  organization_id: string | null;
  status: ApplicationStatus;
  /** what the applicant entered (SSN only as hashes), sealed with the contact's data key */
  submitted_enc: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApplicationVerificationsTable {
  id: string;
  institution_id: string;
  application_id: string;
  /** keyed hash of the current code (bound to this verification); never the code */
  code_hash: string;
  issued_at: Timestamp;
  attempts: number;
  resends: number;
  status: 'pending' | 'verified';
  created_at: Timestamp;
  verified_at: Timestamp | null;
}

export const sequenceStatuses = ['draft', 'active', 'paused', 'archived'] as const;
export type SequenceStatus = (typeof sequenceStatuses)[number];
export const enrollmentStatuses = ['active', 'finished', 'stopped'] as const;
export type EnrollmentStatus = (typeof enrollmentStatuses)[number];
export const stepStatuses = ['pending', 'scheduled', 'sent', 'opened', 'replied', 'bounced', 'skipped'] as const;
export type StepStatus = (typeof stepStatuses)[number];

export interface ProjectsTable {
  id: string;
  institution_id: string;
  /** the owner's organization when the project was created: a team's full export takes its projects */
  organization_id: string | null;
  name: string;
  description: string | null;
  owner_user_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ProjectContactsTable {
  project_id: string;
  contact_id: string;
  institution_id: string;
  added_by: string | null;
  added_at: Timestamp;
}

export interface SequencesTable {
  id: string;
  institution_id: string;
  organization_id: string | null;
  name: string;
  status: SequenceStatus;
  owner_user_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SequenceStepsTable {
  id: string;
  sequence_id: string;
  institution_id: string;
  /** 1, 2, 3… */
  position: number;
  subject: string;
  body: string;
  /** days to wait after the previous step (after enrollment for the first) */
  delay_days: number;
}

export interface SequenceEnrollmentsTable {
  id: string;
  sequence_id: string;
  contact_id: string;
  institution_id: string;
  status: EnrollmentStatus;
  enrolled_by: string | null;
  enrolled_at: Timestamp;
  updated_at: Timestamp;
}

export interface SequenceStepStatusesTable {
  enrollment_id: string;
  step_id: string;
  institution_id: string;
  status: StepStatus;
  updated_at: Timestamp;
}

export const exportKinds = ['self_serve', 'request', 'subject_access'] as const;
export type ExportKind = (typeof exportKinds)[number];
export const exportFormats = ['csv', 'json'] as const;
export type ExportFormat = (typeof exportFormats)[number];
export const exportStatuses = [
  'submitted',
  'awaiting_approval',
  'approved',
  'producing',
  'ready',
  'downloaded',
  'expired',
  'destroyed',
  'refused',
  'failed',
] as const;
export type ExportStatus = (typeof exportStatuses)[number];

export interface ExportsTable {
  id: string;
  institution_id: string;
  /** the team (organization) a request is for; the requester's own for self-serve */
  organization_id: string | null;
  kind: ExportKind;
  /** JSON: what is exported (filters, project, sequence, team, subject); scrubbed of values when destroyed */
  scope: string;
  format: ExportFormat;
  status: ExportStatus;
  reason: string | null;
  /** the request is for an agency contract's data (always refused) */
  agency: Flag;
  requested_by: string | null;
  requester_label: string;
  /** subject access: the person whose data it is */
  contact_id: string | null;
  /** who receives the one-time link */
  deliver_to: 'requester' | 'contact';
  /** JSON: the requester's visibility (Viewer) when they asked */
  viewer: string;
  approver_role: 'automatic' | 'support' | 'csm' | null;
  decided_by: string | null;
  decided_at: Timestamp | null;
  decision_note: string | null;
  refusal_rule: string | null;
  refusal_message: string | null;
  job_id: string | null;
  row_count: number | null;
  file_bytes: number | null;
  /** keyed hash of the one-time link token; the token itself is never stored */
  token_hash: string | null;
  link_expires_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  ready_at: Timestamp | null;
  downloaded_at: Timestamp | null;
  destroyed_at: Timestamp | null;
}

export interface ExportKeysTable {
  export_id: string;
  /** the file's AES-256-GCM key, wrapped with the master key */
  wrapped_key: string;
  created_at: Timestamp;
}

export interface SubjectAccessRequestsTable {
  id: string;
  institution_id: string;
  /** keyed hash of the normalised address: the address itself is not kept */
  email_hash: string;
  /** null when no code was sent (the address matched nobody) */
  code_hash: string | null;
  attempts: number;
  issued_at: Timestamp;
  verified_at: Timestamp | null;
  export_id: string | null;
}

/** lifecycle (0003): how a contact came to be disabled */
export const disabledVia = ['self_service', 'staff', 'bulk'] as const;
export type DisabledVia = (typeof disabledVia)[number];

export interface DisabledContactsTable {
  contact_id: string;
  institution_id: string;
  disabled_at: Timestamp;
  disabled_by: string | null;
  via: DisabledVia;
}

/** what archiving changed, so that reviving puts it back */
export interface ContactArchivesTable {
  contact_id: string;
  institution_id: string;
  previous_employer_id: string | null;
  previous_visibility: Visibility | null;
  set_employer: Flag;
  set_do_not_email: Flag;
  set_visibility: Flag;
  archived_at: Timestamp;
  archived_by: string | null;
}

export interface ContactAccessCodesTable {
  id: string;
  institution_id: string;
  contact_id: string;
  /** keyed hash bound to this row's id; never the code */
  code_hash: string;
  attempts: number;
  created_at: Timestamp;
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
}

export interface ContactSessionsTable {
  /** keyed hash of the session token */
  id: string;
  institution_id: string;
  contact_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export const suppressionKinds = ['email', 'mobile'] as const;
export type SuppressionKind = (typeof suppressionKinds)[number];

export interface SuppressionEntriesTable {
  institution_id: string;
  kind: SuppressionKind;
  /** keyed hash (piiHashKey) of the normalised value */
  value_hash: string;
  created_at: Timestamp;
}

export interface ErasureNoticesTable {
  outbox_id: string;
  institution_id: string;
  created_at: Timestamp;
}

export interface BulkJobItemsTable {
  job_id: string;
  contact_id: string;
}

export interface WebhookSubscriptionsTable {
  id: string;
  institution_id: string;
  url: string;
  description: string | null;
  events: string; // JSON array of event types
  secret_sealed: string;
  active: Flag;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export const webhookDeliveryStatuses = ['pending', 'delivering', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

export interface WebhookDeliveriesTable {
  id: string;
  institution_id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  payload: string; // JSON, ids only
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: Timestamp;
  lease_expires_at: Timestamp | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  delivered_at: Timestamp | null;
}

export const workflowStatuses = ['active', 'paused'] as const;
export type WorkflowStatus = (typeof workflowStatuses)[number];
/** active: due at next_run_at; paused: its workflow is paused; the others are over. */
export const workflowEnrollmentStates = ['active', 'paused', 'completed', 'failed', 'ended'] as const;
export type WorkflowEnrollmentState = (typeof workflowEnrollmentStates)[number];

export interface WorkflowsTable {
  id: string;
  institution_id: string;
  name: string;
  status: WorkflowStatus;
  current_version: number;
  trigger_type: string;
  next_fire_at: Timestamp | null;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WorkflowVersionsTable {
  workflow_id: string;
  version: number;
  definition: string; // JSON, the validated definition
  created_by: string | null;
  created_at: Timestamp;
}

export interface WorkflowEnrollmentsTable {
  id: string;
  institution_id: string;
  workflow_id: string;
  version: number;
  contact_id: string | null;
  state: WorkflowEnrollmentState;
  open: 1 | null;
  step_id: string | null;
  next_run_at: Timestamp | null;
  attempts: number;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  trigger: string;
  reason: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface WorkflowStepRunsTable {
  id: string;
  enrollment_id: string;
  step_id: string;
  step_type: string;
  attempt: number;
  outcome: string;
  detail: string | null;
  ran_at: Timestamp;
}

export interface Database extends RetentionTables {
  rate_limit_counters: RateLimitCountersTable;
  workflows: WorkflowsTable;
  workflow_versions: WorkflowVersionsTable;
  workflow_enrollments: WorkflowEnrollmentsTable;
  workflow_step_runs: WorkflowStepRunsTable;
  projects: ProjectsTable;
  project_contacts: ProjectContactsTable;
  sequences: SequencesTable;
  sequence_steps: SequenceStepsTable;
  sequence_enrollments: SequenceEnrollmentsTable;
  sequence_step_statuses: SequenceStepStatusesTable;
  exports: ExportsTable;
  export_keys: ExportKeysTable;
  subject_access_requests: SubjectAccessRequestsTable;
  application_forms: ApplicationFormsTable;
  applications: ApplicationsTable;
  application_verifications: ApplicationVerificationsTable;
  imports: ImportsTable;
  import_file_chunks: ImportFileChunksTable;
  import_errors: ImportErrorsTable;
  possible_duplicates: PossibleDuplicatesTable;
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
  disabled_contacts: DisabledContactsTable;
  contact_archives: ContactArchivesTable;
  contact_access_codes: ContactAccessCodesTable;
  contact_sessions: ContactSessionsTable;
  suppression_entries: SuppressionEntriesTable;
  bulk_job_items: BulkJobItemsTable;
  erasure_notices: ErasureNoticesTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export type Contact = Selectable<ContactsTable>;
export type NewContact = Insertable<ContactsTable>;
export type ContactUpdate = Updateable<ContactsTable>;
export type User = Selectable<UsersTable>;
export type Organization = Selectable<OrganizationsTable>;
export type Institution = Selectable<InstitutionsTable>;
export type Role = Selectable<RolesTable>;

/** retention (0008): ticketing records, recency, inactive-contact batch runs, support keys */
export const orderKinds = ['reservation', 'sale'] as const;
export type OrderKind = (typeof orderKinds)[number];
export const orderRoles = ['purchase', 'cultural'] as const;
export type OrderRole = (typeof orderRoles)[number];

export interface TicketOrdersTable {
  id: string;
  institution_id: string;
  organization_id: string | null;
  /** the ticketing system's own id: recording the same order twice is a no-op */
  external_ref: string;
  kind: OrderKind;
  ordered_at: Timestamp;
  created_at: Timestamp;
}

export interface TicketOrderContactsTable {
  order_id: string;
  contact_id: string;
  institution_id: string;
  role: OrderRole;
}

export interface TicketOrderLinesTable {
  id: string;
  order_id: string;
  institution_id: string;
  /** the line's place in the order as sent (0, 1, 2…) */
  position: number;
  product: string;
  dated: Flag;
  validity_date: Timestamp | null;
  quantity: number;
  amount_cents: number;
  /** PII: the name on the ticket of someone who is not a contact; anonymised with the order's contacts */
  beneficiary_first_name: string | null;
  beneficiary_last_name: string | null;
  beneficiary_anonymised_at: Timestamp | null;
}

export interface TicketPaymentsTable {
  id: string;
  order_id: string;
  institution_id: string;
  amount_cents: number;
  paid_at: Timestamp;
  created_at: Timestamp;
}

export interface TicketOptionsTable {
  id: string;
  institution_id: string;
  organization_id: string | null;
  contact_id: string;
  external_ref: string;
  product: string;
  acquired_at: Timestamp;
  confirmed_at: Timestamp | null;
  created_at: Timestamp;
}

export interface WaitlistEntriesTable {
  id: string;
  institution_id: string;
  organization_id: string | null;
  contact_id: string;
  product: string;
  added_at: Timestamp;
  created_at: Timestamp;
}

export interface ContactRecencyTable {
  contact_id: string;
  institution_id: string;
  recency_at: Timestamp;
  reason: string;
  rank: number;
  source_id: string | null;
}

export interface AnonymisedContactsTable {
  /** the anonymised contact (not named contact_id, so merges do not carry the mark to a survivor) */
  stub_id: string;
  institution_id: string;
  anonymised_at: Timestamp;
  run_id: string | null;
}

export interface RetentionRunsTable {
  id: string;
  institution_id: string;
  job_id: string | null;
  mode: 'simulation' | 'execution';
  months: number;
  as_of: Timestamp;
  cutoff: Timestamp;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  report: string | null; // JSON, ids and counts only
  requested_by: string | null;
  created_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface RetentionRunItemsTable {
  run_id: string;
  contact_id: string;
  outcome: 'delete' | 'anonymise';
  /** null until handled; then deleted, anonymised or skipped_active */
  done: string | null;
  /** the contact's organization when the snapshot was taken (0010), for the report's per-organization counts */
  organization_id: string | null;
}

export interface RetentionLocksTable {
  institution_id: string;
  run_id: string;
  acquired_at: Timestamp;
}

export interface RetentionSupportKeysTable {
  subject_id: string;
  institution_id: string;
  wrapped_key: string;
  anonymised_at: Timestamp;
  expires_at: Timestamp;
}

export interface RetentionSchedulesTable {
  institution_id: string;
  kind: 'inactive_batch' | 'log_retention';
  next_run_at: Timestamp;
}

export interface RetentionTables {
  ticket_orders: TicketOrdersTable;
  ticket_order_contacts: TicketOrderContactsTable;
  ticket_order_lines: TicketOrderLinesTable;
  ticket_payments: TicketPaymentsTable;
  ticket_options: TicketOptionsTable;
  waitlist_entries: WaitlistEntriesTable;
  contact_recency: ContactRecencyTable;
  anonymised_contacts: AnonymisedContactsTable;
  retention_runs: RetentionRunsTable;
  retention_run_items: RetentionRunItemsTable;
  retention_locks: RetentionLocksTable;
  retention_support_keys: RetentionSupportKeysTable;
  retention_schedules: RetentionSchedulesTable;
}

/** rate limits (0009): one counter per hashed key, shared by every process (src/security/rate-limits.ts) */
export interface RateLimitCountersTable {
  /** keyed hash (HMAC-SHA256) of the scope and what is counted: no address or email in clear */
  key: string;
  scope: string;
  window_start: Timestamp;
  hits: number;
  /** set when a lockout rule's limit is reached: refused until then */
  locked_until: Timestamp | null;
  /** the row may be purged after this */
  expires_at: Timestamp;
}
