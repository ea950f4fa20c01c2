import { z } from 'zod';
import { contactSources, mailCategories, optInStatuses } from '../db/schema.ts';
import { erasureReasons } from '../lifecycle/erase.ts';
import { bulkFilterSchema } from '../lifecycle/bulk/bulk-select.ts';

/**
 * The JSON a workflow is written in. Each step is `{ id?, type, <type>: options }`, so an error
 * names the step and the option (`steps[2].wait.days`). Steps run in order; a condition may jump
 * to a step by id, or to "end".
 */
const stepId = z
  .string()
  .regex(/^[a-z0-9_-]{1,40}$/i, 'must be 1–40 letters, digits, "_" or "-"')
  .refine((v) => v !== 'end', '"end" is reserved for "finish the workflow"');
const target = z.string().min(1).max(40).describe('a step id, or "end"');

const triggerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('contact_created'),
    sources: z.array(z.enum(contactSources)).min(1).optional().describe('only contacts created this way (default: any)'),
  }),
  z.strictObject({
    type: z.literal('consent_changed'),
    optIn: z.enum(optInStatuses).optional().describe('only when the opt-in status becomes this'),
    purpose: z.string().min(1).max(64).optional().describe('only when this authorization changes (instead of the opt-in status)'),
  }),
  z.strictObject({ type: z.literal('attribute_changed'), key: z.string().min(1).max(64) }),
  z.strictObject({ type: z.literal('manual') }),
  z.strictObject({
    type: z.literal('schedule'),
    cron: z.string().min(9).max(100).describe('five-field cron expression, in UTC (e.g. "0 9 * * 1": Mondays at 09:00)'),
    filter: bulkFilterSchema.describe('whom each firing enrolls: the directory filters, as bulk actions take them'),
  }),
]);
export type Trigger = z.infer<typeof triggerSchema>;

const emailOptions = z.strictObject({
  category: z.enum(mailCategories).describe('marketing mail is never sent to do-not-email, opted-out or disabled contacts'),
  subject: z.string().min(1).max(300),
  text: z.string().min(1).max(20_000),
  html: z.string().max(50_000).optional().describe('default: the text part as paragraphs'),
  links: z
    .record(z.string().regex(/^[a-z0-9_]{1,40}$/i, 'link names are letters, digits and "_"'), z.url({ protocol: /^https?$/ }))
    .optional()
    .describe('tracked links: {{links.<name>}} becomes a signed per-contact URL that records the click and redirects here'),
});

const conditionTest = z.union([
  z.strictObject({ optedIn: z.boolean() }),
  z.strictObject({ attribute: z.strictObject({ key: z.string().min(1).max(64), equals: z.union([z.string().max(2000), z.number(), z.boolean()]) }) }),
  z.strictObject({ authorization: z.strictObject({ purpose: z.string().min(1).max(64), granted: z.boolean() }) }),
]);

const step = <T extends string, O extends z.ZodType>(type: T, options: O) =>
  z.strictObject({ id: stepId.optional(), type: z.literal(type) }).extend({ [type]: options } as { [K in T]: O });

export const stepSchema = z.discriminatedUnion('type', [
  step('send_email', emailOptions),
  step(
    'wait',
    z.union([
      z.strictObject({
        days: z.number().int().min(0).max(3650).optional(),
        hours: z.number().int().min(0).max(87_600).optional(),
        minutes: z.number().int().min(0).max(5_256_000).optional(),
      }),
      z.strictObject({ until: z.iso.datetime({ offset: true }) }),
    ]),
  ),
  step(
    'condition',
    z.strictObject({
      if: conditionTest,
      then: target.optional().describe('where to go when the test holds (default: the next step)'),
      else: target.optional().describe('where to go otherwise (default: the next step)'),
    }),
  ),
  step('expunge', z.strictObject({ reason: z.enum(erasureReasons).default('no_consent'), notify: z.boolean().default(true) })),
  step('anonymise', z.strictObject({}).describe('seed 004: irreversibly anonymise the contact (names replaced, contact data and history removed); the run ends')),
  step('archive', z.strictObject({ employer: z.boolean().default(true), doNotEmail: z.boolean().default(true), staffOnly: z.boolean().default(true) })),
  step('set_attribute', z.strictObject({ key: z.string().min(1).max(64), value: z.union([z.string().max(2000), z.number(), z.boolean()]).nullable() })),
  step(
    'notify_staff',
    z.strictObject({
      to: z.array(z.email()).min(1).max(20).describe("staff users' addresses (users of this institution)"),
      subject: z.string().min(1).max(300),
      text: z.string().min(1).max(20_000),
    }),
  ),
  step('webhook', z.strictObject({ subscriptionId: z.string().min(1).max(100).describe('a webhook subscription: its URL and signing secret are used') })),
]);
export type StepInput = z.input<typeof stepSchema>;
export type Step = z.output<typeof stepSchema> & { id: string };
export type StepType = Step['type'];
export const stepTypes = stepSchema.options.map((o) => o.shape.type.value);

export const definitionSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  trigger: triggerSchema,
  steps: z.array(stepSchema).min(1).max(100),
});
export type DefinitionInput = z.input<typeof definitionSchema>;

/** A definition after validation: every step has an id (given, or `s<position>`). */
export interface Definition {
  name: string;
  trigger: Trigger;
  steps: Step[];
}

/** Where a step goes when it finishes normally: the next one, or nothing (the run completes). */
export function nextStepId(definition: Definition, id: string): string | null {
  const i = definition.steps.findIndex((s) => s.id === id);
  return definition.steps[i + 1]?.id ?? null;
}

export function resolveTarget(definition: Definition, from: string, target: string | undefined): string | null {
  if (target === undefined) return nextStepId(definition, from);
  return target === 'end' ? null : target;
}

export function waitMs(options: { days?: number; hours?: number; minutes?: number }): number {
  return ((options.days ?? 0) * 24 * 60 + (options.hours ?? 0) * 60 + (options.minutes ?? 0)) * 60_000;
}
