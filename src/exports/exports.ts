import { type Selectable } from 'kysely';
import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { exportFormats, exportKinds, exportStatuses, type ExportsTable, type ExportStatus } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { recordAudit, systemActor, type Actor } from '../audit/audit-log.ts';
import type { AuthContext } from '../access/auth.ts';
import { viewerOf, type Viewer } from '../contacts/visibility.ts';
import { enqueueJob } from '../jobs/queue.ts';
import { conflict, forbidden, invalidField, notFound, Problem } from '../http/problem.ts';
import { decodeCursor, encodeCursor } from '../contacts/cursor.ts';
import { domainMatches, evaluateExportRequest, mayDecide, refusalMessages, type PolicyDecision } from './policy.ts';
import { canMove } from './state.ts';
import { notifyParties, type ExportEvent, type Party } from './notify.ts';
import { readExportSettings } from './settings.ts';
import { countScopeContacts, type ExportScope } from './sources.ts';
import { deleteFileKey, downloadUrl, exportFilePath, hashLinkToken, newLinkToken, removeFile } from './files.ts';
import { engineOf } from '../db/engine.ts';

export type ExportRow = Selectable<ExportsTable>;
export const EXPORT_JOB = 'export.produce';

export const exportView = z.object({
  id: z.string(),
  kind: z.enum(exportKinds),
  status: z.enum(exportStatuses),
  format: z.enum(exportFormats),
  organizationId: z.string().nullable(),
  scope: z.record(z.string(), z.unknown()),
  reason: z.string().nullable(),
  agency: z.boolean(),
  requestedBy: z.string().nullable(),
  approverRole: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionNote: z.string().nullable(),
  refusal: z.object({ rule: z.string(), message: z.string() }).nullable(),
  jobId: z.string().nullable(),
  progress: z.object({ done: z.number(), total: z.number().nullable() }).nullable(),
  rowCount: z.number().nullable(),
  fileBytes: z.number().nullable(),
  linkExpiresAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  readyAt: z.string().nullable(),
  downloadedAt: z.string().nullable(),
  destroyedAt: z.string().nullable(),
});
export type ExportView = z.infer<typeof exportView>;

export async function toExportView(db: Db, row: ExportRow): Promise<ExportView> {
  const job = row.job_id ? await db.selectFrom('jobs').select(['progress_done', 'progress_total']).where('id', '=', row.job_id).executeTakeFirst() : undefined;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    format: row.format,
    organizationId: row.organization_id,
    scope: JSON.parse(row.scope),
    reason: row.reason,
    agency: row.agency === 1,
    requestedBy: row.requested_by,
    approverRole: row.approver_role,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    decisionNote: row.decision_note,
    refusal: row.refusal_rule ? { rule: row.refusal_rule, message: row.refusal_message ?? '' } : null,
    jobId: row.job_id,
    progress: job ? { done: Number(job.progress_done), total: job.progress_total === null ? null : Number(job.progress_total) } : null,
    rowCount: row.row_count === null ? null : Number(row.row_count),
    fileBytes: row.file_bytes === null ? null : Number(row.file_bytes),
    linkExpiresAt: row.link_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    readyAt: row.ready_at,
    downloadedAt: row.downloaded_at,
    destroyedAt: row.destroyed_at,
  };
}

export async function loadExport(db: Db, id: string, institutionId?: string, lock = false): Promise<ExportRow | undefined> {
  let q = db.selectFrom('exports').selectAll().where('id', '=', id);
  if (institutionId !== undefined) q = q.where('institution_id', '=', institutionId);
  if (lock && engineOf(db) === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}

/**
 * One audited step of the state machine, applied only if the export is still in the state the
 * caller read (so two deciders, or a decider and the expiry job, cannot both move it).
 */
export async function moveExport(
  ctx: AppContext,
  trx: Db,
  row: ExportRow,
  to: ExportStatus,
  actor: Actor,
  set: Partial<Omit<ExportRow, 'id' | 'status'>> = {},
  meta: Record<string, unknown> = {},
): Promise<ExportRow> {
  if (!canMove(row.status, to)) throw conflict(`This export is ${row.status.replace('_', ' ')}; it cannot become ${to.replace('_', ' ')}.`);
  const now = ctx.clock.now().toISOString();
  const result = await trx
    .updateTable('exports')
    .set({ ...set, status: to, updated_at: now })
    .where('id', '=', row.id)
    .where('status', '=', row.status)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw conflict('This export changed meanwhile; read it again.');
  await recordAudit(ctx, trx, {
    institutionId: row.institution_id,
    actor,
    action: `export.${to}`,
    target: { type: 'export', id: row.id },
    meta: { from: row.status, to, kind: row.kind, ...meta },
  });
  return { ...row, ...set, status: to, updated_at: now } as ExportRow;
}

/** Queues the worker job that produces an approved export. */
export async function scheduleProduction(ctx: AppContext, trx: Db, row: ExportRow): Promise<ExportRow> {
  const jobId = await enqueueJob(trx, ctx.clock.now().toISOString(), {
    institutionId: row.institution_id,
    kind: EXPORT_JOB,
    payload: { exportId: row.id },
    createdBy: row.requested_by,
    maxAttempts: 3,
  });
  await trx.updateTable('exports').set({ job_id: jobId }).where('id', '=', row.id).execute();
  return { ...row, job_id: jobId };
}

/** Only the ids of what an export held survive it: filter values (names, emails…) are dropped when it is destroyed. */
export function scrubbedScope(scope: ExportScope): Record<string, unknown> {
  if (scope.type !== 'contacts') return scope;
  return { type: 'contacts', filterFields: Object.keys(scope.filters).filter((k) => (scope.filters as Record<string, unknown>)[k] !== undefined) };
}

/** What the creator of an export decides; every other column starts empty and is filled by the state machine. */
export type NewExport = Omit<
  ExportRow,
  'id' | 'status' | 'created_at' | 'updated_at' | 'decided_by' | 'decided_at' | 'decision_note' | 'refusal_rule' | 'refusal_message' | 'job_id' | 'row_count' | 'file_bytes' | 'token_hash' | 'link_expires_at' | 'ready_at' | 'downloaded_at' | 'destroyed_at'
>;

/**
 * Records a new export (submitted) with its audit entry: the one way every kind of export starts.
 * `auditMeta` replaces the default description (kind, format, team, scope without filter values).
 */
export async function insertExport(ctx: AppContext, trx: Db, values: NewExport, actor: Actor, auditMeta?: Record<string, unknown>): Promise<ExportRow> {
  const now = ctx.clock.now().toISOString();
  const row: ExportRow = {
    ...values,
    id: newId(),
    status: 'submitted',
    decided_by: null,
    decided_at: null,
    decision_note: null,
    refusal_rule: null,
    refusal_message: null,
    job_id: null,
    row_count: null,
    file_bytes: null,
    token_hash: null,
    link_expires_at: null,
    created_at: now,
    updated_at: now,
    ready_at: null,
    downloaded_at: null,
    destroyed_at: null,
  };
  await trx.insertInto('exports').values(row).execute();
  await recordAudit(ctx, trx, {
    institutionId: row.institution_id,
    actor,
    action: 'export.submitted',
    target: { type: 'export', id: row.id },
    meta: auditMeta ?? { kind: row.kind, format: row.format, organizationId: row.organization_id, scope: scrubbedScope(JSON.parse(row.scope)), agency: row.agency === 1 },
  });
  return row;
}

export const selfServeBody = z.strictObject({
  format: z.enum(exportFormats).default('csv'),
  scope: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('contacts'),
      filters: z
        .strictObject({
          email: z.string().max(254).optional(),
          lastName: z.string().max(200).optional(),
          firstName: z.string().max(200).optional(),
          q: z.string().max(200).optional(),
          organizationId: z.string().max(100).optional(),
          employerId: z.string().max(100).optional(),
          ownerUserId: z.string().max(100).optional(),
          visibility: z.enum(['everyone', 'staff_only', 'owner_only']).optional(),
          approvalStatus: z.enum(['pending', 'approved', 'rejected']).optional(),
          source: z.enum(['self_signup', 'application', 'manual', 'bulk_import', 'api']).optional(),
          optInStatus: z.enum(['unknown', 'opted_in', 'opted_out']).optional(),
          createdFrom: z.iso.datetime({ offset: true }).optional(),
          createdTo: z.iso.datetime({ offset: true }).optional(),
          attributes: z
            .array(z.strictObject({ key: z.string().min(1).max(64), op: z.enum(['eq', 'gte', 'lte']).default('eq'), values: z.array(z.string().max(2000)).min(1).max(50) }))
            .max(20)
            .optional(),
        })
        .default({}),
    }),
    z.strictObject({ type: z.literal('project'), projectId: z.string().min(1).max(100) }),
    z.strictObject({ type: z.literal('sequence'), sequenceId: z.string().min(1).max(100) }),
  ]),
});
export type SelfServeInput = z.infer<typeof selfServeBody>;

export function viewerOfAuth(auth: AuthContext): Viewer {
  return viewerOf(auth.user.id, auth.permissions);
}

/** A self-serve export of a filtered set, a project or a sequence, up to the institution's limit; produced right away. */
export async function createSelfServeExport(ctx: AppContext, institutionId: string, auth: AuthContext, input: SelfServeInput): Promise<ExportRow> {
  const scope = input.scope as ExportScope;
  if (scope.type === 'project') {
    const found = await ctx.db.selectFrom('projects').select('id').where('id', '=', scope.projectId).where('institution_id', '=', institutionId).executeTakeFirst();
    if (!found) throw invalidField('scope.projectId', 'is not a project of this institution');
  } else if (scope.type === 'sequence') {
    const found = await ctx.db.selectFrom('sequences').select('id').where('id', '=', scope.sequenceId).where('institution_id', '=', institutionId).executeTakeFirst();
    if (!found) throw invalidField('scope.sequenceId', 'is not a sequence of this institution');
  }
  const viewer = viewerOfAuth(auth);
  const { selfServeLimit } = await readExportSettings(ctx.db, institutionId);
  const count = await countScopeContacts(ctx, institutionId, scope, viewer, selfServeLimit + 1);
  if (count > selfServeLimit) {
    const limit = selfServeLimit.toLocaleString('en-US');
    throw new Problem(
      422,
      `This export would hold more than ${limit} contacts, the self-serve limit of your institution. Narrow the filters to ${limit} or fewer, ` +
        `or have an administrator of your team request a full export (POST /api/export-requests with the team and a reason, or \`lethe export request\`). ` +
        `A full export is reviewed under the export policy: the requester must be a team admin with an email at the team's domain, and support or the team's CSM approves it before anything is produced.`,
      [{ field: 'scope', message: `matches more than ${limit} contacts (the self-serve limit); narrow it or request a full export` }],
    );
  }
  return ctx.db.transaction().execute(async (trx) => {
    let row = await insertExport(
      ctx,
      trx,
      {
        institution_id: institutionId,
        organization_id: auth.user.organizationId,
        kind: 'self_serve',
        scope: JSON.stringify(scope),
        format: input.format,
        reason: null,
        agency: 0,
        requested_by: auth.user.id,
        requester_label: auth.actor.label,
        contact_id: null,
        deliver_to: 'requester',
        viewer: JSON.stringify(viewer),
        approver_role: 'automatic',
      },
      auth.actor,
    );
    row = await moveExport(ctx, trx, row, 'approved', systemActor, { decided_at: row.created_at }, { rule: 'self_serve_within_limit', limit: selfServeLimit, contacts: count });
    return scheduleProduction(ctx, trx, row);
  });
}

export const requestBody = z.strictObject({
  organizationId: z.string().min(1).max(100).describe('the team whose full export is requested'),
  reason: z.string().max(2000).optional().describe('why the team needs its data; required by the export policy'),
  agency: z.boolean().default(false).describe("the request is for an agency contract's data (always refused)"),
  format: z.enum(exportFormats).default('csv'),
});
export type RequestInput = z.infer<typeof requestBody>;

async function requesterFacts(db: Db, auth: AuthContext, org: { id: string; email_domains: string }) {
  const user = await db.selectFrom('users').select(['email', 'organization_id']).where('id', '=', auth.user.id).executeTakeFirstOrThrow();
  return {
    requesterIsTeamAdmin: user.organization_id === org.id && auth.user.roleKey === 'admin',
    requesterDomainMatches: domainMatches(user.email, JSON.parse(org.email_domains) as string[]),
  };
}

function partiesToAsk(decision: Extract<PolicyDecision, { outcome: 'awaiting_approval' }>): Party[] {
  return decision.notify;
}

async function refuse(ctx: AppContext, trx: Db, row: ExportRow, actor: Actor, rule: string, message: string, extra: Party[] = [], meta: Record<string, unknown> = {}): Promise<ExportRow> {
  const refused = await moveExport(ctx, trx, row, 'refused', actor, { refusal_rule: rule, refusal_message: message, decided_at: ctx.clock.now().toISOString() }, { rule, ...meta });
  await notifyParties(ctx, trx, refused, { type: 'refused', rule, message }, ['requester', ...extra]);
  return refused;
}

/**
 * A request for a team's full export, under seed 003's policy. A request the policy refuses is
 * still recorded (refused, with its rule, audited, the requester told); one that only lacks a
 * reason is sent back as bad input, recording nothing.
 */
export async function submitExportRequest(ctx: AppContext, institutionId: string, auth: AuthContext, input: RequestInput): Promise<ExportRow> {
  const org = await ctx.db.selectFrom('organizations').selectAll().where('id', '=', input.organizationId).where('institution_id', '=', institutionId).executeTakeFirst();
  if (!org) throw invalidField('organizationId', 'is not an organization (team) of this institution');
  const facts = await requesterFacts(ctx.db, auth, org);
  const decision = evaluateExportRequest({
    tier: org.tier,
    ...facts,
    reason: input.reason,
    agency: input.agency,
    contractEndsAt: org.contract_ends_at,
    now: ctx.clock.now(),
  });
  if (decision.outcome === 'refused' && decision.refusals.every((r) => r.rule === 'reason_required')) {
    throw invalidField('reason', `is required by the export policy (rule reason_required): ${refusalMessages.reason_required}`);
  }
  return ctx.db.transaction().execute(async (trx) => {
    const row = await insertExport(
      ctx,
      trx,
      {
        institution_id: institutionId,
        organization_id: org.id,
        kind: 'request',
        scope: JSON.stringify({ type: 'organization', organizationId: org.id } satisfies ExportScope),
        format: input.format,
        reason: input.reason?.trim() || null,
        agency: input.agency ? 1 : 0,
        requested_by: auth.user.id,
        requester_label: auth.actor.label,
        contact_id: null,
        deliver_to: 'requester',
        viewer: JSON.stringify(viewerOfAuth(auth)),
        approver_role: null,
      },
      auth.actor,
    );
    if (decision.outcome === 'refused') {
      return refuse(ctx, trx, row, systemActor, decision.rule, decision.message, [], { rules: decision.refusals.map((r) => r.rule), tier: org.tier });
    }
    const waiting = await moveExport(ctx, trx, row, 'awaiting_approval', systemActor, { approver_role: decision.approver }, { tier: org.tier, approver: decision.approver });
    const event: ExportEvent = { type: 'submitted', approver: decision.approver };
    await notifyParties(ctx, trx, waiting, event, ['requester', ...partiesToAsk(decision)]);
    return waiting;
  });
}

export const decisionBody = z.strictObject({ note: z.string().trim().max(2000).optional() });

/**
 * Approve or refuse a request awaiting approval. Approval re-checks the policy as it stands now
 * (a team past its 90 days, or moved to the free tier, is refused instead).
 */
export async function decideExportRequest(
  ctx: AppContext,
  institutionId: string,
  auth: AuthContext,
  id: string,
  decision: 'approve' | 'refuse',
  note: string | undefined,
): Promise<ExportRow> {
  if (decision === 'refuse' && !note?.trim()) throw invalidField('note', 'is required when refusing: tell the requester why');
  return ctx.db.transaction().execute(async (trx) => {
    const row = await loadExport(trx, id, institutionId, true);
    if (!row || row.kind !== 'request') throw notFound('Export request');
    if (row.status !== 'awaiting_approval') throw conflict(`This request is ${row.status.replace('_', ' ')}; only a request awaiting approval can be ${decision === 'approve' ? 'approved' : 'refused'}.`);
    const org = row.organization_id ? await trx.selectFrom('organizations').selectAll().where('id', '=', row.organization_id).executeTakeFirst() : undefined;
    if (!org) return refuse(ctx, trx, row, systemActor, 'team_removed', 'The team this request was for no longer exists.');
    const allowed = mayDecide(org.tier, { platformRole: auth.user.platformRole, userId: auth.user.id }, org.csm_user_id, decision);
    if (!allowed.ok) throw forbidden(allowed.message);
    const deciderParties: Party[] = auth.user.platformRole === 'csm' ? ['support'] : org.tier === 'scaled' ? [] : ['csm'];
    const decided = { decided_by: auth.user.id, decided_at: ctx.clock.now().toISOString(), decision_note: note?.trim() || null };

    if (decision === 'refuse') {
      const rule = auth.user.platformRole === 'csm' ? 'refused_by_csm' : 'refused_by_support';
      const refused = await moveExport(ctx, trx, row, 'refused', auth.actor, { ...decided, refusal_rule: rule, refusal_message: note!.trim() }, { rule });
      await notifyParties(ctx, trx, refused, { type: 'refused', rule, message: note!.trim() }, ['requester', ...deciderParties]);
      return refused;
    }

    const requester = row.requested_by
      ? await trx.selectFrom('users').leftJoin('roles', 'roles.id', 'users.role_id').select(['users.email', 'users.organization_id', 'users.site_access', 'roles.key']).where('users.id', '=', row.requested_by).executeTakeFirst()
      : undefined;
    const recheck = evaluateExportRequest({
      tier: org.tier,
      requesterIsTeamAdmin: Boolean(requester && requester.site_access === 1 && requester.organization_id === org.id && requester.key === 'admin'),
      requesterDomainMatches: Boolean(requester && domainMatches(requester.email, JSON.parse(org.email_domains) as string[])),
      reason: row.reason,
      agency: row.agency === 1,
      contractEndsAt: org.contract_ends_at,
      now: ctx.clock.now(),
    });
    if (recheck.outcome === 'refused') {
      return refuse(ctx, trx, row, systemActor, recheck.rule, recheck.message, deciderParties, { rules: recheck.refusals.map((r) => r.rule), at: 'approval' });
    }
    let approved = await moveExport(ctx, trx, row, 'approved', auth.actor, { ...decided, approver_role: recheck.approver }, { approver: recheck.approver, tier: org.tier });
    await notifyParties(ctx, trx, approved, { type: 'approved' }, ['requester', ...deciderParties]);
    approved = await scheduleProduction(ctx, trx, approved);
    return approved;
  });
}

/** Requesters see their own exports; those who decide exports (exports.approve) see every export of the institution. */
export function canSeeExport(auth: AuthContext, row: ExportRow): boolean {
  return row.requested_by === auth.user.id || auth.permissions.has('exports.approve');
}

export async function getExport(ctx: AppContext, institutionId: string, auth: AuthContext, id: string): Promise<ExportRow> {
  const row = await loadExport(ctx.db, id, institutionId);
  if (!row || !canSeeExport(auth, row)) throw notFound('Export');
  return row;
}

export async function listExports(
  ctx: AppContext,
  institutionId: string,
  auth: AuthContext,
  opts: { status?: ExportStatus; kind?: (typeof exportKinds)[number]; after?: string; limit: number },
): Promise<{ items: ExportRow[]; nextCursor: string | null }> {
  let q = ctx.db.selectFrom('exports').selectAll().where('institution_id', '=', institutionId);
  if (!auth.permissions.has('exports.approve')) q = q.where('requested_by', '=', auth.user.id);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.kind) q = q.where('kind', '=', opts.kind);
  if (opts.after) q = q.where('id', '<', String(decodeCursor('exports', opts.after, 1)[0]));
  const rows = await q.orderBy('id', 'desc').limit(opts.limit + 1).execute();
  const items = rows.slice(0, opts.limit);
  return { items, nextCursor: rows.length > opts.limit ? encodeCursor('exports', [items[items.length - 1].id]) : null };
}

/**
 * A new one-time link for the requester of a ready export (the emailed one stops working): for
 * API and CLI clients, and when mail is held. The expiry does not move.
 */
export async function reissueLink(ctx: AppContext, institutionId: string, auth: AuthContext, id: string): Promise<{ url: string; token: string; expiresAt: string }> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await loadExport(trx, id, institutionId, true);
    if (!row || row.requested_by !== auth.user.id) throw notFound('Export');
    if (row.deliver_to !== 'requester') throw forbidden('This export is delivered to the person it is about; its link cannot be issued to you.');
    if (row.status !== 'ready') throw new Problem(409, `This export is ${row.status.replace('_', ' ')}; a link can only be issued while it is ready and not yet downloaded.`);
    if (row.link_expires_at! <= ctx.clock.now().toISOString()) throw new Problem(410, 'This export has expired; its file is being destroyed. Ask for a new export.');
    const token = newLinkToken();
    await trx.updateTable('exports').set({ token_hash: hashLinkToken(ctx, token), updated_at: ctx.clock.now().toISOString() }).where('id', '=', row.id).execute();
    await recordAudit(ctx, trx, { institutionId, actor: auth.actor, action: 'export.link_reissued', target: { type: 'export', id: row.id } });
    return { url: downloadUrl(ctx, token), token, expiresAt: row.link_expires_at! };
  });
}

/**
 * Erased means gone, in export files too: call this in the transaction that erases contacts.
 * Every export of the institution that may hold them and is not yet delivered (approved,
 * producing or ready) is destroyed: key deleted, file removed, job cancelled, requester told.
 */
export async function destroyExportsHolding(ctx: AppContext, trx: Db, institutionId: string, contactIds: string[]): Promise<number> {
  const live = await trx.selectFrom('exports').selectAll().where('institution_id', '=', institutionId).where('status', 'in', ['approved', 'producing', 'ready']).execute();
  let destroyed = 0;
  const now = ctx.clock.now().toISOString();
  for (const row of live) {
    if (row.kind === 'subject_access' && row.contact_id && !contactIds.includes(row.contact_id)) continue;
    const gone = await moveExport(ctx, trx, row, 'destroyed', systemActor, { destroyed_at: now, scope: JSON.stringify(scrubbedScope(JSON.parse(row.scope))) }, { cause: 'erasure' });
    await deleteFileKey(trx, row.id);
    if (row.job_id) await trx.updateTable('jobs').set({ status: 'cancelled', lease_owner: null, lease_expires_at: null, updated_at: now, finished_at: now }).where('id', '=', row.job_id).where('status', 'in', ['queued', 'running']).execute();
    removeFile(exportFilePath(ctx, row.id));
    if (row.kind !== 'subject_access') await notifyParties(ctx, trx, gone, { type: 'destroyed_by_erasure' }, ['requester']);
    destroyed++;
  }
  return destroyed;
}

