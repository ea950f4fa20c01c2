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

export interface Organization {
  id: string;
  name: string;
  [extra: string]: unknown;
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
