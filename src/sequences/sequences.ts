import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { newId } from '../ids.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { recordActivity } from '../activity/events.ts';
import type { Caller } from '../contacts/contacts.ts';
import { decodeCursor, encodeCursor } from '../contacts/cursor.ts';
import { visibleTo, type Viewer } from '../contacts/visibility.ts';
import { conflict, notFound } from '../http/problem.ts';
import { sequenceStatuses, stepStatuses, type EnrollmentStatus, type SequenceStatus, type StepStatus } from '../db/schema.ts';
import { checkOwner, checkVisibleContacts } from '../projects/projects.ts';

/**
 * Sequences: multi-step outreach emails, the contacts enrolled in them and each step's status
 * per contact (seed 003 exports them). Lethe records them; sending belongs to workflows, which
 * (like any integration) reports each step's progress through setStepStatus.
 */

const stepInput = z.strictObject({
  subject: z.string().trim().min(1, 'must not be empty').max(300),
  body: z.string().trim().min(1, 'must not be empty').max(20_000),
  delayDays: z.number().int().min(0).max(365).default(0).describe('days after the previous step (after enrollment for the first)'),
});
export const createSequenceBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  status: z.enum(sequenceStatuses).default('draft'),
  ownerUserId: z.string().max(100).optional(),
  steps: z.array(stepInput).min(1, 'a sequence needs at least one step').max(20),
});
export const updateSequenceBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  status: z.enum(sequenceStatuses).optional(),
  ownerUserId: z.string().max(100).optional(),
});
export const replaceStepsBody = z.strictObject({ steps: z.array(stepInput).min(1, 'a sequence needs at least one step').max(20) });
export const enrollBody = z.strictObject({ contactIds: z.array(z.string().min(1).max(100)).min(1).max(1000) });
export const stepStatusBody = z.strictObject({ status: z.enum(stepStatuses) });

const stepView = z.object({ id: z.string(), position: z.number(), subject: z.string(), body: z.string(), delayDays: z.number() });
export const sequenceView = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(sequenceStatuses),
  ownerUserId: z.string().nullable(),
  organizationId: z.string().nullable(),
  steps: z.array(stepView),
  enrolledCount: z.number().describe('enrolled contacts you may see'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type SequenceView = z.infer<typeof sequenceView>;
export const enrollmentView = z.object({
  id: z.string(),
  contactId: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  status: z.string(),
  enrolledAt: z.string(),
  steps: z.array(z.object({ position: z.number(), status: z.enum(stepStatuses), updatedAt: z.string() })),
});

type SequenceRow = { id: string; institution_id: string; organization_id: string | null; name: string; status: SequenceStatus; owner_user_id: string | null; created_at: string; updated_at: string };

async function findSequence(db: Db, institutionId: string, id: string): Promise<SequenceRow> {
  const row = await db.selectFrom('sequences').selectAll().where('id', '=', id).where('institution_id', '=', institutionId).executeTakeFirst();
  if (!row) throw notFound('Sequence');
  return row;
}

async function toView(db: Db, row: SequenceRow, viewer: Viewer): Promise<SequenceView> {
  const [steps, count] = await Promise.all([
    db.selectFrom('sequence_steps').selectAll().where('sequence_id', '=', row.id).orderBy('position').execute(),
    db
      .selectFrom('sequence_enrollments')
      .innerJoin('contacts', 'contacts.id', 'sequence_enrollments.contact_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sequence_enrollments.sequence_id', '=', row.id)
      .where(visibleTo(viewer))
      .executeTakeFirstOrThrow(),
  ]);
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    ownerUserId: row.owner_user_id,
    organizationId: row.organization_id,
    steps: steps.map((s) => ({ id: s.id, position: s.position, subject: s.subject, body: s.body, delayDays: s.delay_days })),
    enrolledCount: Number(count.n),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function writeSteps(trx: Db, sequence: SequenceRow, steps: z.infer<typeof stepInput>[]): Promise<void> {
  await trx.deleteFrom('sequence_steps').where('sequence_id', '=', sequence.id).execute();
  await trx
    .insertInto('sequence_steps')
    .values(steps.map((s, i) => ({ id: newId(), sequence_id: sequence.id, institution_id: sequence.institution_id, position: i + 1, subject: s.subject, body: s.body, delay_days: s.delayDays })))
    .execute();
}

export async function createSequence(ctx: AppContext, institutionId: string, caller: Caller, input: z.infer<typeof createSequenceBody>): Promise<SequenceView> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const row = await ctx.db.transaction().execute(async (trx) => {
    if (input.ownerUserId) await checkOwner(trx, institutionId, input.ownerUserId);
    const row: SequenceRow = {
      id: newId(now.getTime()),
      institution_id: institutionId,
      organization_id: caller.organizationId,
      name: input.name,
      status: input.status,
      owner_user_id: input.ownerUserId ?? caller.actor.userId,
      created_at: at,
      updated_at: at,
    };
    await trx.insertInto('sequences').values(row).execute();
    await writeSteps(trx, row, input.steps);
    await recordAudit(ctx, trx, {
      institutionId,
      actor: caller.actor,
      action: 'sequence.create',
      target: { type: 'sequence', id: row.id },
      after: { name: row.name, status: row.status, ownerUserId: row.owner_user_id, steps: input.steps.length },
    });
    return row;
  });
  return toView(ctx.db, row, caller.viewer);
}

export async function getSequence(ctx: AppContext, institutionId: string, viewer: Viewer, id: string): Promise<SequenceView> {
  return toView(ctx.db, await findSequence(ctx.db, institutionId, id), viewer);
}

export async function listSequences(
  ctx: AppContext,
  institutionId: string,
  viewer: Viewer,
  opts: { status?: SequenceStatus; ownerUserId?: string; after?: string; limit: number },
): Promise<{ items: SequenceView[]; nextCursor: string | null }> {
  let q = ctx.db.selectFrom('sequences').selectAll().where('institution_id', '=', institutionId);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.ownerUserId) q = q.where('owner_user_id', '=', opts.ownerUserId);
  if (opts.after) q = q.where('id', '<', String(decodeCursor('sequences', opts.after, 1)[0]));
  const rows = await q.orderBy('id', 'desc').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  return {
    items: await Promise.all(page.map((r) => toView(ctx.db, r, viewer))),
    nextCursor: rows.length > opts.limit ? encodeCursor('sequences', [page[page.length - 1].id]) : null,
  };
}

export async function updateSequence(ctx: AppContext, institutionId: string, caller: Caller, id: string, patch: z.infer<typeof updateSequenceBody>): Promise<SequenceView> {
  const at = ctx.clock.now().toISOString();
  const row = await ctx.db.transaction().execute(async (trx) => {
    const current = await findSequence(trx, institutionId, id);
    if (patch.ownerUserId) await checkOwner(trx, institutionId, patch.ownerUserId);
    const next = { name: patch.name ?? current.name, status: patch.status ?? current.status, owner_user_id: patch.ownerUserId ?? current.owner_user_id };
    await trx.updateTable('sequences').set({ ...next, updated_at: at }).where('id', '=', id).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor: caller.actor,
      action: 'sequence.update',
      target: { type: 'sequence', id },
      before: { name: current.name, status: current.status, ownerUserId: current.owner_user_id },
      after: { name: next.name, status: next.status, ownerUserId: next.owner_user_id },
    });
    return { ...current, ...next, updated_at: at };
  });
  return toView(ctx.db, row, caller.viewer);
}

export async function replaceSteps(ctx: AppContext, institutionId: string, caller: Caller, id: string, steps: z.infer<typeof stepInput>[]): Promise<SequenceView> {
  const at = ctx.clock.now().toISOString();
  const row = await ctx.db.transaction().execute(async (trx) => {
    const current = await findSequence(trx, institutionId, id);
    const enrolled = await trx.selectFrom('sequence_enrollments').select('id').where('sequence_id', '=', id).limit(1).executeTakeFirst();
    if (enrolled) throw conflict('Contacts are enrolled in this sequence, so its steps can no longer change; create a new sequence instead.');
    await writeSteps(trx, current, steps);
    await trx.updateTable('sequences').set({ updated_at: at }).where('id', '=', id).execute();
    await recordAudit(ctx, trx, { institutionId, actor: caller.actor, action: 'sequence.steps_replace', target: { type: 'sequence', id }, meta: { steps: steps.length } });
    return { ...current, updated_at: at };
  });
  return toView(ctx.db, row, caller.viewer);
}

export async function deleteSequence(ctx: AppContext, institutionId: string, caller: Caller, id: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const current = await findSequence(trx, institutionId, id);
    const enrollments = trx.selectFrom('sequence_enrollments').select('id').where('sequence_id', '=', id);
    await trx.deleteFrom('sequence_step_statuses').where('enrollment_id', 'in', enrollments).execute();
    await trx.deleteFrom('sequence_enrollments').where('sequence_id', '=', id).execute();
    await trx.deleteFrom('sequence_steps').where('sequence_id', '=', id).execute();
    await trx.deleteFrom('sequences').where('id', '=', id).execute();
    await recordAudit(ctx, trx, { institutionId, actor: caller.actor, action: 'sequence.delete', target: { type: 'sequence', id }, before: { name: current.name } });
  });
}

/** Enrolls contacts (already enrolled ones are skipped): the first step is scheduled, the others pending. */
export async function enrollContacts(ctx: AppContext, institutionId: string, caller: Caller, id: string, contactIds: string[]): Promise<{ enrolled: number }> {
  const at = ctx.clock.now().toISOString();
  return ctx.db.transaction().execute(async (trx) => {
    const sequence = await findSequence(trx, institutionId, id);
    if (sequence.status === 'archived') throw conflict('This sequence is archived; set its status back to draft or active to enroll contacts.');
    const ids = await checkVisibleContacts(trx, institutionId, caller.viewer, contactIds);
    const existing = new Set((await trx.selectFrom('sequence_enrollments').select('contact_id').where('sequence_id', '=', id).where('contact_id', 'in', ids).execute()).map((r) => r.contact_id));
    const fresh = ids.filter((c) => !existing.has(c));
    if (!fresh.length) return { enrolled: 0 };
    const steps = await trx.selectFrom('sequence_steps').select(['id', 'position']).where('sequence_id', '=', id).orderBy('position').execute();
    const enrollments = fresh.map((contact_id) => ({
      id: newId(),
      sequence_id: id,
      contact_id,
      institution_id: institutionId,
      status: 'active' as EnrollmentStatus,
      enrolled_by: caller.actor.userId,
      enrolled_at: at,
      updated_at: at,
    }));
    await trx.insertInto('sequence_enrollments').values(enrollments).execute();
    await trx
      .insertInto('sequence_step_statuses')
      .values(enrollments.flatMap((e) => steps.map((s) => ({ enrollment_id: e.id, step_id: s.id, institution_id: institutionId, status: (s.position === 1 ? 'scheduled' : 'pending') as StepStatus, updated_at: at }))))
      .execute();
    const orgs = await trx.selectFrom('contacts').select(['id', 'organization_id']).where('id', 'in', fresh).execute();
    await recordActivity(
      trx,
      orgs.map((c) => ({ institutionId, contactId: c.id, organizationId: c.organization_id, actorUserId: caller.actor.userId, type: 'sequence.enrolled', occurredAt: at, data: { sequenceId: id } })),
    );
    await recordAudit(ctx, trx, { institutionId, actor: caller.actor, action: 'sequence.enroll', target: { type: 'sequence', id }, meta: { enrolled: fresh.length } });
    return { enrolled: fresh.length };
  });
}

async function findEnrollment(db: Db, institutionId: string, viewer: Viewer, sequenceId: string, enrollmentId: string) {
  const row = await db
    .selectFrom('sequence_enrollments')
    .innerJoin('contacts', 'contacts.id', 'sequence_enrollments.contact_id')
    .select(['sequence_enrollments.id', 'sequence_enrollments.contact_id', 'sequence_enrollments.status', 'contacts.organization_id'])
    .where('sequence_enrollments.id', '=', enrollmentId)
    .where('sequence_enrollments.sequence_id', '=', sequenceId)
    .where('sequence_enrollments.institution_id', '=', institutionId)
    .where(visibleTo(viewer))
    .executeTakeFirst();
  if (!row) throw notFound('Enrollment');
  return row;
}

const doneStatuses: StepStatus[] = ['sent', 'opened', 'replied', 'bounced', 'skipped'];

/**
 * Records a step's status for one enrolled contact. A reply or a bounce ends the enrollment (no
 * more steps go out); so does the last step leaving pending/scheduled. The next step is scheduled
 * when this one is sent.
 */
export async function setStepStatus(
  ctx: AppContext,
  institutionId: string,
  caller: Caller,
  sequenceId: string,
  enrollmentId: string,
  position: number,
  status: StepStatus,
): Promise<z.infer<typeof enrollmentView>> {
  const at = ctx.clock.now().toISOString();
  await ctx.db.transaction().execute(async (trx) => {
    const enrollment = await findEnrollment(trx, institutionId, caller.viewer, sequenceId, enrollmentId);
    if (enrollment.status === 'stopped') throw conflict('This contact was removed from the sequence; its steps can no longer change.');
    const steps = await trx.selectFrom('sequence_steps').select(['id', 'position']).where('sequence_id', '=', sequenceId).orderBy('position').execute();
    const step = steps.find((s) => s.position === position);
    if (!step) throw notFound('Step');
    await trx.updateTable('sequence_step_statuses').set({ status, updated_at: at }).where('enrollment_id', '=', enrollmentId).where('step_id', '=', step.id).execute();
    const next = steps.find((s) => s.position === position + 1);
    if (status === 'sent' && next) {
      await trx.updateTable('sequence_step_statuses').set({ status: 'scheduled', updated_at: at }).where('enrollment_id', '=', enrollmentId).where('step_id', '=', next.id).where('status', '=', 'pending').execute();
    }
    const statuses = await trx.selectFrom('sequence_step_statuses').select('status').where('enrollment_id', '=', enrollmentId).execute();
    const finished = status === 'replied' || status === 'bounced' || statuses.every((s) => doneStatuses.includes(s.status));
    if (finished && enrollment.status === 'active') {
      await trx.updateTable('sequence_step_statuses').set({ status: 'skipped', updated_at: at }).where('enrollment_id', '=', enrollmentId).where('status', 'in', ['pending', 'scheduled']).execute();
      await trx.updateTable('sequence_enrollments').set({ status: 'finished', updated_at: at }).where('id', '=', enrollmentId).execute();
    } else {
      await trx.updateTable('sequence_enrollments').set({ updated_at: at }).where('id', '=', enrollmentId).execute();
    }
    await recordActivity(trx, {
      institutionId,
      contactId: enrollment.contact_id,
      organizationId: enrollment.organization_id,
      actorUserId: caller.actor.userId,
      type: 'sequence.step_status',
      occurredAt: at,
      data: { sequenceId, position, status },
    });
    await recordAudit(ctx, trx, { institutionId, actor: caller.actor, action: 'sequence.step_status', target: { type: 'sequence_enrollment', id: enrollmentId }, meta: { sequenceId, position, status } });
  });
  return (await listEnrollments(ctx, institutionId, caller.viewer, sequenceId, { limit: 1, only: enrollmentId })).items[0];
}

/** Removes a contact from the sequence: the enrollment stops and its remaining steps are skipped (the record stays). */
export async function stopEnrollment(ctx: AppContext, institutionId: string, caller: Caller, sequenceId: string, enrollmentId: string): Promise<void> {
  const at = ctx.clock.now().toISOString();
  await ctx.db.transaction().execute(async (trx) => {
    const enrollment = await findEnrollment(trx, institutionId, caller.viewer, sequenceId, enrollmentId);
    await trx.updateTable('sequence_step_statuses').set({ status: 'skipped', updated_at: at }).where('enrollment_id', '=', enrollmentId).where('status', 'in', ['pending', 'scheduled']).execute();
    await trx.updateTable('sequence_enrollments').set({ status: 'stopped', updated_at: at }).where('id', '=', enrollmentId).execute();
    await recordAudit(ctx, trx, { institutionId, actor: caller.actor, action: 'sequence.unenroll', target: { type: 'sequence_enrollment', id: enrollmentId }, meta: { sequenceId, contactId: enrollment.contact_id } });
  });
}

export async function listEnrollments(
  ctx: AppContext,
  institutionId: string,
  viewer: Viewer,
  sequenceId: string,
  opts: { after?: string; limit: number; only?: string },
): Promise<{ items: z.infer<typeof enrollmentView>[]; nextCursor: string | null }> {
  await findSequence(ctx.db, institutionId, sequenceId);
  let q = ctx.db
    .selectFrom('sequence_enrollments')
    .innerJoin('contacts', 'contacts.id', 'sequence_enrollments.contact_id')
    .select(['sequence_enrollments.id', 'sequence_enrollments.contact_id', 'sequence_enrollments.status', 'sequence_enrollments.enrolled_at', 'contacts.first_name', 'contacts.last_name'])
    .where('sequence_enrollments.sequence_id', '=', sequenceId)
    .where(visibleTo(viewer));
  if (opts.only) q = q.where('sequence_enrollments.id', '=', opts.only);
  if (opts.after) q = q.where('sequence_enrollments.id', '>', String(decodeCursor('enrollments', opts.after, 1)[0]));
  const rows = await q.orderBy('sequence_enrollments.id').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  const statuses = page.length
    ? await ctx.db
        .selectFrom('sequence_step_statuses as s')
        .innerJoin('sequence_steps as st', 'st.id', 's.step_id')
        .select(['s.enrollment_id', 'st.position', 's.status', 's.updated_at'])
        .where('s.enrollment_id', 'in', page.map((r) => r.id))
        .orderBy('st.position')
        .execute()
    : [];
  return {
    items: page.map((r) => ({
      id: r.id,
      contactId: r.contact_id,
      firstName: r.first_name,
      lastName: r.last_name,
      status: r.status,
      enrolledAt: r.enrolled_at,
      steps: statuses.filter((s) => s.enrollment_id === r.id).map((s) => ({ position: s.position, status: s.status, updatedAt: s.updated_at })),
    })),
    nextCursor: rows.length > opts.limit ? encodeCursor('enrollments', [page[page.length - 1].id]) : null,
  };
}
