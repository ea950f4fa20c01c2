export type Permission = string;

export interface RoleRef {
  id: string | null;
  key: string;
  name: string;
}

export interface SessionUser {
  id: string;
  name: string;
  email: string;
  role: RoleRef | null;
  platformRole: 'support' | 'csm' | null;
  permissions: Permission[];
  institutionId: string | null;
  organizationId: string | null;
}

export interface Session {
  user: SessionUser;
  csrfToken: string | null;
}

export interface Page<T, C = string> {
  items: T[];
  nextCursor: C | null;
}

export type Visibility = 'everyone' | 'staff_only' | 'owner_only';
export type ApprovalStatus = 'pending' | 'approved' | 'rejected';
export type Source = 'self_signup' | 'application' | 'manual' | 'bulk_import' | 'api';
export type OptInStatus = 'unknown' | 'opted_in' | 'opted_out';

export interface ContactRow {
  id: string;
  firstName: string;
  lastName: string;
  email: string | null;
  mobilePhone: string | null;
  organizationId: string | null;
  employerId: string | null;
  ownerUserId: string | null;
  visibility: Visibility;
  approvalStatus: ApprovalStatus;
  source: Source;
  optInStatus: OptInStatus;
  createdAt: string;
  updatedAt: string;
}

export interface Contact {
  id: string;
  organizationId: string | null;
  firstName: string;
  lastName: string;
  email: string | null;
  mobilePhone: string | null;
  mobileE164: string | null;
  ssnOnFile: boolean;
  employer: { id: string; name: string; since: string } | null;
  formerEmployers: { id: string; name: string; startedAt: string; endedAt: string }[];
  ownerUserId: string | null;
  visibility: Visibility;
  approvalStatus: ApprovalStatus;
  source: Source;
  optInStatus: OptInStatus;
  optInChangedAt: string | null;
  attributes: Record<string, string | number | boolean>;
  authorizations: Record<string, { granted: boolean; updatedAt: string }>;
  createdAt: string;
  updatedAt: string;
  [extra: string]: unknown;
}

export interface AttributeDefinition {
  id: string;
  key: string;
  label: string;
  type: 'text' | 'number' | 'boolean' | 'date' | 'choice';
  options: string[] | null;
  createdAt: string;
}

export type OrganizationTier = 'free' | 'scaled' | 'mid_market' | 'enterprise';

export interface Organization {
  id: string;
  name: string;
  tier: OrganizationTier;
  emailDomains: string[];
  csmUserId: string | null;
  contractEndsAt: string | null;
  createdAt: string;
}

export interface Institution {
  id: string;
  name: string;
  slug: string;
  createdAt: string;
  organizations: Organization[];
}

export interface Employer {
  id: string;
  name: string;
}

export interface ActivityItem {
  seq: number;
  type: string;
  occurredAt: string;
  organizationId: string | null;
  actorUserId: string | null;
  data: Record<string, unknown> | null;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: RoleRef | null;
  platformRole: 'support' | 'csm' | null;
  organizationId: string | null;
  institutionId: string | null;
  siteAccess: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Role {
  id: string;
  key: string;
  name: string;
  builtin: boolean;
  permissions: Permission[];
  userCount: number;
}

export interface AuditEntry {
  seq: number;
  occurredAt: string;
  institutionId: string | null;
  actorUserId: string | null;
  actorLabel: string;
  action: string;
  targetType: string;
  targetId: string | null;
  before: unknown;
  after: unknown;
  shredded: boolean;
  meta: Record<string, unknown> | null;
}

export interface OutboxMessage {
  id: string;
  contactId: string | null;
  category: string;
  template: string;
  status: string;
  to: string | null;
  subject: string | null;
  text: string | null;
  messageId: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

export interface Job {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: { done: number; total: number | null; percent: number | null };
  result: unknown;
  error: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

// ---- lifecycle (src/lifecycle/contact-actions.ts, bulk/bulk-job.ts) ----
export type LifecycleActionName = 'disable' | 'restore' | 'archive' | 'unarchive' | 'reject' | 'approve' | 'delete' | 'expunge';
export type ErasureReason = 'contact_request' | 'no_consent' | 'retention' | 'duplicate' | 'staff_decision' | 'other';

export interface LifecycleView {
  contactId: string;
  status: 'active' | 'disabled';
  disabledAt: string | null;
  approvalStatus: ApprovalStatus;
  archived: boolean;
  doNotEmail: boolean;
  visibility: Visibility;
  employerId: string | null;
}

export interface ActionResult {
  contactId: string;
  action: string;
  outcome: 'changed' | 'unchanged';
  detail: string | null;
  lifecycle: LifecycleView | null;
}

export interface BulkReport {
  action: string;
  total: number;
  changed: number;
  unchanged: number;
  refused: number;
  reasons: Record<string, number>;
  refusedSample: { id: string; why: string }[];
}

// ---- intake (src/intake/settings-service.ts, forms.ts, import/import-routes.ts) ----
export interface DuplicateRule {
  identifier: 'email' | 'mobile' | 'email_or_mobile';
  lastName: boolean;
  ssn: 'none' | 'full' | 'last6' | 'last4';
}

export interface IntakeSettings {
  duplicateRule: DuplicateRule;
  duplicateRuleDescription: string;
  defaultRegion: string;
}

export type FormFieldName = 'firstName' | 'lastName' | 'email' | 'mobilePhone' | 'ssn';

export interface ApplicationForm {
  id: string;
  organizationId: string;
  jobBoard: string | null;
  name: string;
  fields: { field: FormFieldName; required: boolean }[];
  duplicateRule: DuplicateRule | null;
  effectiveRule: DuplicateRule;
  effectiveRuleDescription: string;
  verificationEnabled: boolean;
  mergePolicy: 'fill_empty' | 'overwrite';
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ImportSummary {
  created: number;
  updated: number;
  skippedDuplicate: number;
  invalid: number;
  suppressed: number;
  blank: number;
}

export interface ImportView {
  id: string;
  status: 'uploading' | 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  fileName: string;
  fileBytes: number;
  organizationId: string | null;
  onDuplicate: 'skip' | 'fill_empty' | 'overwrite';
  mapping: { column: number; header: string; field: string | null }[] | null;
  rows: { total: number | null; done: number };
  summary: ImportSummary;
  error: string | null;
  jobId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  errorsUrl: string;
}

// ---- duplicates (src/intake/possible-duplicates/routes.ts, merge/merge-routes.ts) ----
export interface DuplicateContact {
  id: string;
  firstName: string;
  lastName: string;
  email: string | null;
  mobilePhone: string | null;
  employerId: string | null;
  organizationId: string | null;
  source: string;
  createdAt: string;
}

export interface PossibleDuplicate {
  id: string;
  score: number;
  reasons: { code: string; text: string }[];
  status: 'open' | 'dismissed';
  contacts: [DuplicateContact, DuplicateContact];
  createdAt: string;
  updatedAt: string;
  dismissedAt: string | null;
  mergeUrl: string;
}

export type MergeSide = 'survivor' | 'other';

export interface MergeFieldDecision {
  field: string;
  survivor: unknown;
  other: unknown;
  chosen: MergeSide;
  result: unknown;
}

export interface MergePreview {
  survivorId: string;
  otherId: string;
  fields: MergeFieldDecision[];
  moves: Record<string, number>;
}

// ---- exports (src/exports/exports.ts) ----
export type ExportStatus = 'submitted' | 'awaiting_approval' | 'approved' | 'producing' | 'ready' | 'downloaded' | 'expired' | 'destroyed' | 'refused' | 'failed';

export interface ExportView {
  id: string;
  kind: 'self_serve' | 'request' | 'subject_access';
  status: ExportStatus;
  format: 'csv' | 'json';
  organizationId: string | null;
  scope: Record<string, unknown>;
  reason: string | null;
  agency: boolean;
  requestedBy: string | null;
  approverRole: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
  refusal: { rule: string; message: string } | null;
  jobId: string | null;
  progress: { done: number; total: number | null } | null;
  rowCount: number | null;
  fileBytes: number | null;
  linkExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  readyAt: string | null;
  downloadedAt: string | null;
  destroyedAt: string | null;
}

export interface DownloadLink {
  url: string;
  token: string;
  expiresAt: string;
}

export interface Tenant {
  id: string;
  name: string;
  slug: string;
  createdAt: string;
}

// ---- self-service (src/lifecycle/self-service/public-routes.ts) ----
export interface OwnProfile {
  id: string;
  firstName: string;
  lastName: string;
  email: string | null;
  mobilePhone: string | null;
  employer: string | null;
  optInStatus: string;
  authorizations: Record<string, { granted: boolean; updatedAt: string }>;
  createdAt: string;
  deleteAccount: 'soft' | 'expunge';
}

// ---- workflows (src/workflows/definition.ts, workflows.ts, enrollments.ts) ----
export type WorkflowTrigger =
  | { type: 'contact_created'; sources?: Source[] }
  | { type: 'consent_changed'; optIn?: OptInStatus; purpose?: string }
  | { type: 'attribute_changed'; key: string }
  | { type: 'manual' }
  | { type: 'schedule'; cron: string; filter: Record<string, unknown> };
export type WorkflowTriggerType = WorkflowTrigger['type'];

export type ConditionTest =
  | { optedIn: boolean }
  | { attribute: { key: string; equals: string | number | boolean } }
  | { authorization: { purpose: string; granted: boolean } };

export interface SendEmailOptions {
  category: 'transactional' | 'marketing';
  subject: string;
  text: string;
  html?: string;
  links?: Record<string, string>;
}

export type WorkflowStep = { id?: string } & (
  | { type: 'send_email'; send_email: SendEmailOptions }
  | { type: 'wait'; wait: { days?: number; hours?: number; minutes?: number } | { until: string } }
  | { type: 'condition'; condition: { if: ConditionTest; then?: string; else?: string } }
  | { type: 'expunge'; expunge: { reason?: ErasureReason; notify?: boolean } }
  | { type: 'anonymise'; anonymise: Record<string, never> }
  | { type: 'archive'; archive: { employer?: boolean; doNotEmail?: boolean; staffOnly?: boolean } }
  | { type: 'set_attribute'; set_attribute: { key: string; value: string | number | boolean | null } }
  | { type: 'notify_staff'; notify_staff: { to: string[]; subject: string; text: string } }
  | { type: 'webhook'; webhook: { subscriptionId: string } }
);
export type WorkflowStepType = WorkflowStep['type'];

export interface WorkflowDefinition {
  name: string;
  trigger: WorkflowTrigger;
  steps: WorkflowStep[];
}

export type WorkflowEnrollmentState = 'active' | 'paused' | 'completed' | 'failed' | 'ended';

export interface WorkflowView {
  id: string;
  name: string;
  status: 'active' | 'paused';
  version: number;
  definition: WorkflowDefinition;
  enrollments: Partial<Record<WorkflowEnrollmentState, number>>;
  createdAt: string;
  updatedAt: string;
}

export interface WorkflowStepRun {
  stepId: string;
  stepType: string;
  attempt: number;
  outcome: string;
  detail: string | null;
  ranAt: string;
}

export interface WorkflowEnrollment {
  id: string;
  workflowId: string;
  workflowName: string;
  version: number;
  contactId: string | null;
  state: WorkflowEnrollmentState;
  stepId: string | null;
  nextRunAt: string | null;
  attempts: number;
  trigger: string;
  reason: string | null;
  createdAt: string;
  finishedAt: string | null;
  steps?: WorkflowStepRun[];
}

export interface WebhookSubscription {
  id: string;
  url: string;
  [extra: string]: unknown;
}

// ---- retention (src/retention/settings.ts, inactive-runs.ts, inactive-report.ts) ----
export interface RetentionSettings {
  inactivityMonths: number;
  simulation: boolean;
  schedule: string | null;
  logRetentionMonths: number;
}

export interface InactiveReport {
  totals: { prospectsToDelete: number; customersToAnonymise: number; beneficiaryNamesToAnonymise: number };
  perOrganization: { organizationId: string | null; organizationName: string | null; prospectsToDelete: number; customersToAnonymise: number }[];
  histogram: { month: string; contacts: number }[];
  sample: { contactId: string; outcome: 'delete' | 'anonymise'; recency: string; reason: string; organizationId: string | null }[];
  executed: { deleted: number; anonymised: number; skippedActive: number; beneficiaryNamesAnonymised: number } | null;
}

export interface RetentionRun {
  id: string;
  mode: 'simulation' | 'execution';
  months: number;
  asOf: string;
  cutoff: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  jobId: string | null;
  requestedBy: string | null;
  createdAt: string;
  finishedAt: string | null;
  report: InactiveReport | null;
}
