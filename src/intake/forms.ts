import { z } from 'zod';
import type { Selectable } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import { applicationMergePolicies, type ApplicationFormsTable } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { invalidFields, notFound, Problem } from '../http/problem.ts';
import { describeRule, duplicateRuleSchema, type DuplicateRule } from './rules/duplicate-rule.ts';
import { validateFormVerification } from './rules/verification.ts';
import { ProblemWith } from './problems.ts';
import { readIntakeSettings } from './settings.ts';

/**
 * Application forms: one per organization board or job board, each with its fields (and which
 * are required), an optional duplicate rule overriding the institution's, the verification toggle
 * (seed 002) and what a verified application does to the existing profile.
 */

export const formFieldNames = ['firstName', 'lastName', 'email', 'mobilePhone', 'ssn'] as const;
export type FormFieldName = (typeof formFieldNames)[number];

const formField = z.strictObject({ field: z.enum(formFieldNames), required: z.boolean() });
export type FormField = z.infer<typeof formField>;

export const formBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    organizationId: z.string().min(1).max(100).describe('the organization whose board the form belongs to'),
    jobBoard: z.string().trim().min(1).max(200).nullable().default(null).describe('the job board the form is published on, if any'),
    fields: z
      .array(formField)
      .min(2)
      .max(formFieldNames.length)
      .describe('the fields the form asks for; firstName and lastName are always there and required'),
    duplicateRule: duplicateRuleSchema.nullable().default(null).describe("overrides the institution's duplicate rule; null follows it"),
    verificationEnabled: z
      .boolean()
      .default(false)
      .describe('application verification (seed 002): an application matching an existing talent needs a code emailed to that talent'),
    mergePolicy: z
      .enum(applicationMergePolicies)
      .default('fill_empty')
      .describe('what a verified application does to the existing profile: fill_empty only fills fields it lacks; overwrite replaces them with what the applicant entered'),
    active: z.boolean().default(true).describe('a closed form takes no applications'),
  })
  .superRefine((form, issue) => {
    const seen = new Set<string>();
    form.fields.forEach((f, i) => {
      if (seen.has(f.field)) issue.addIssue({ code: 'custom', path: ['fields', i, 'field'], message: `lists ${f.field} twice` });
      seen.add(f.field);
    });
    for (const name of ['firstName', 'lastName'] as const) {
      const field = form.fields.find((f) => f.field === name);
      if (!field?.required) issue.addIssue({ code: 'custom', path: ['fields'], message: `must include ${name} as required: every contact has a name` });
    }
  });
export type FormInput = z.input<typeof formBody>;
type FormConfig = z.output<typeof formBody>;

export const formView = z.object({
  id: z.string(),
  organizationId: z.string(),
  jobBoard: z.string().nullable(),
  name: z.string(),
  fields: z.array(z.object({ field: z.enum(formFieldNames), required: z.boolean() })),
  duplicateRule: duplicateRuleSchema.nullable(),
  effectiveRule: duplicateRuleSchema,
  effectiveRuleDescription: z.string().describe("the rule in seed 002's wording, e.g. 'Email Only + Last Name'"),
  verificationEnabled: z.boolean(),
  mergePolicy: z.enum(applicationMergePolicies),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type FormView = z.infer<typeof formView>;

export type FormRow = Selectable<ApplicationFormsTable>;

export function formFieldsOf(row: Pick<FormRow, 'fields'>): FormField[] {
  return JSON.parse(row.fields) as FormField[];
}

export function formRuleOverride(row: Pick<FormRow, 'duplicate_rule'>): DuplicateRule | null {
  return row.duplicate_rule ? duplicateRuleSchema.parse(JSON.parse(row.duplicate_rule)) : null;
}

/** The rule a form applies: its own, or the institution's. */
export function effectiveRuleOf(row: Pick<FormRow, 'duplicate_rule'>, institutionRule: DuplicateRule): DuplicateRule {
  return formRuleOverride(row) ?? institutionRule;
}

export function viewOfForm(row: FormRow, institutionRule: DuplicateRule): FormView {
  const rule = effectiveRuleOf(row, institutionRule);
  return {
    id: row.id,
    organizationId: row.organization_id,
    jobBoard: row.job_board,
    name: row.name,
    fields: formFieldsOf(row),
    duplicateRule: formRuleOverride(row),
    effectiveRule: rule,
    effectiveRuleDescription: describeRule(rule),
    verificationEnabled: row.verification_enabled === 1,
    mergePolicy: row.merge_policy,
    active: row.active === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Seed 002: verification on a form whose duplicate-check fields are not all required could be
 * bypassed by leaving them empty, so it is refused with the reason and the fields to make required.
 */
export function assertVerificationSafe(config: { verificationEnabled: boolean; fields: FormField[] }, rule: DuplicateRule, formName?: string): void {
  const refusal = validateFormVerification({
    verificationEnabled: config.verificationEnabled,
    rule,
    requiredFields: config.fields.filter((f) => f.required).map((f) => f.field),
  });
  if (!refusal) return;
  throw new ProblemWith(
    422,
    formName ? `Form "${formName}": ${refusal.message}` : refusal.message,
    { code: refusal.code, fieldsToRequire: refusal.fields, rule: describeRule(rule) },
    [{ field: 'verificationEnabled', message: refusal.message }],
  );
}

/** Serialises rule and form changes of one institution (PostgreSQL row lock; SQLite writers are serial). */
export async function lockInstitution(ctx: AppContext, trx: Db, institutionId: string): Promise<void> {
  if (ctx.store.kind !== 'postgres') return;
  const row = await trx.selectFrom('institutions').select('id').where('id', '=', institutionId).forUpdate().executeTakeFirst();
  if (!row) throw notFound('Institution');
}

async function checkOrganization(trx: Db, institutionId: string, organizationId: string): Promise<void> {
  const org = await trx.selectFrom('organizations').select('id').where('institution_id', '=', institutionId).where('id', '=', organizationId).executeTakeFirst();
  if (!org) throw invalidFields([{ field: 'organizationId', message: 'is not an organization of this institution' }]);
}

function columnsOf(config: FormConfig) {
  return {
    organization_id: config.organizationId,
    job_board: config.jobBoard,
    name: config.name,
    fields: JSON.stringify(config.fields),
    duplicate_rule: config.duplicateRule ? JSON.stringify(config.duplicateRule) : null,
    verification_enabled: (config.verificationEnabled ? 1 : 0) as 0 | 1,
    merge_policy: config.mergePolicy,
    active: (config.active ? 1 : 0) as 0 | 1,
  };
}

/** What the audit log keeps of a form: its whole configuration (no personal data). */
function auditOf(config: FormConfig) {
  return { ...config };
}

export async function createForm(ctx: AppContext, institutionId: string, actor: Actor, input: FormInput): Promise<FormView> {
  const config = formBody.parse(input);
  return ctx.db.transaction().execute(async (trx) => {
    await lockInstitution(ctx, trx, institutionId);
    await checkOrganization(trx, institutionId, config.organizationId);
    const settings = await readIntakeSettings(trx, institutionId);
    assertVerificationSafe(config, config.duplicateRule ?? settings.duplicateRule);
    const now = ctx.clock.now().toISOString();
    const row: FormRow = { id: newId(), institution_id: institutionId, ...columnsOf(config), created_at: now, updated_at: now };
    await trx.insertInto('application_forms').values(row).execute();
    await recordAudit(ctx, trx, { institutionId, actor, action: 'form.create', target: { type: 'application_form', id: row.id }, after: auditOf(config) });
    return viewOfForm(row, settings.duplicateRule);
  });
}

/** Replaces a form's configuration. */
export async function updateForm(ctx: AppContext, institutionId: string, formId: string, actor: Actor, input: FormInput): Promise<FormView> {
  const config = formBody.parse(input);
  return ctx.db.transaction().execute(async (trx) => {
    await lockInstitution(ctx, trx, institutionId);
    const current = await findForm(trx, institutionId, formId);
    await checkOrganization(trx, institutionId, config.organizationId);
    const settings = await readIntakeSettings(trx, institutionId);
    assertVerificationSafe(config, config.duplicateRule ?? settings.duplicateRule);
    const now = ctx.clock.now().toISOString();
    const columns = { ...columnsOf(config), updated_at: now };
    await trx.updateTable('application_forms').set(columns).where('id', '=', formId).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'form.update',
      target: { type: 'application_form', id: formId },
      before: viewOfForm(current, settings.duplicateRule),
      after: auditOf(config),
    });
    return viewOfForm({ ...current, ...columns }, settings.duplicateRule);
  });
}

/** A form of this institution, or 404 (the same answer as for another tenant's form). */
export async function findForm(db: Db, institutionId: string, formId: string): Promise<FormRow> {
  const row = await db.selectFrom('application_forms').selectAll().where('institution_id', '=', institutionId).where('id', '=', formId).executeTakeFirst();
  if (!row) throw notFound('Form');
  return row;
}

export async function getForm(db: Db, institutionId: string, formId: string): Promise<FormView> {
  const [row, settings] = await Promise.all([findForm(db, institutionId, formId), readIntakeSettings(db, institutionId)]);
  return viewOfForm(row, settings.duplicateRule);
}

export async function listForms(db: Db, institutionId: string, opts: { organizationId?: string } = {}): Promise<FormView[]> {
  let q = db.selectFrom('application_forms').selectAll().where('institution_id', '=', institutionId);
  if (opts.organizationId) q = q.where('organization_id', '=', opts.organizationId);
  const [rows, settings] = await Promise.all([q.orderBy('created_at').orderBy('id').execute(), readIntakeSettings(db, institutionId)]);
  return rows.map((r) => viewOfForm(r, settings.duplicateRule));
}

/** A form open to the public (any tenant's: its id is what a public page links to), or 404 / 410. */
export async function findOpenForm(db: Db, formId: string): Promise<FormRow> {
  const row = await db.selectFrom('application_forms').selectAll().where('id', '=', formId).executeTakeFirst();
  if (!row) throw notFound('Form');
  if (!row.active) throw new Problem(410, 'This application form is closed and takes no more applications.');
  return row;
}
