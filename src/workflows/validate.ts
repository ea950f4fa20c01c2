import type { z } from 'zod';
import type { Db } from '../context.ts';
import { checkContactAttributes, definitionsByKey } from '../contacts/attributes.ts';
import { normalizeEmail } from '../contacts/normalize.ts';
import { Problem, type FieldError } from '../http/problem.ts';
import { definitionSchema, type Definition, type Step } from './definition.ts';
import { mergeFieldProblem, mergeFieldsIn } from './merge-fields.ts';
import { cronProblem } from './schedule.ts';

/** `['steps', 2, 'wait', 'days']` → `steps[2].wait.days`, the way a person reads a JSON path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || 'body';
}

function zodErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => {
    const field = fieldPath(i.path);
    if (i.code === 'invalid_union' && i.path.at(-1) === 'type') {
      return { field, message: `is not a known step or trigger type (${(i as { options?: unknown[] }).options?.join(', ')})` };
    }
    return { field, message: i.message };
  });
}

const refuse = (errors: FieldError[]) =>
  new Problem(400, `The workflow was not saved: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`, errors);

/**
 * Checks a definition in two passes: its shape (zod), then what only the whole definition and
 * the institution can tell: unique step ids, branches that lead somewhere, merge fields that
 * exist, attributes, staff addresses and webhook subscriptions of this institution. Every problem
 * is reported at once, each naming its step (400 problem+json).
 */
export async function validateDefinition(db: Db, institutionId: string, input: unknown): Promise<Definition> {
  const parsed = definitionSchema.safeParse(input);
  if (!parsed.success) throw refuse(zodErrors(parsed.error));
  const errors: FieldError[] = [];
  const at = (i: number, rest: string) => `steps[${i}].${rest}`;
  const steps: Step[] = parsed.data.steps.map((s, i) => ({ ...s, id: s.id ?? `s${i + 1}` }) as Step);

  if (parsed.data.trigger.type === 'schedule') {
    const problem = cronProblem(parsed.data.trigger.cron);
    if (problem) errors.push({ field: 'trigger.cron', message: problem });
  }
  const seen = new Map<string, number>();
  steps.forEach((s, i) => {
    if (seen.has(s.id)) errors.push({ field: at(i, 'id'), message: `"${s.id}" is already the id of steps[${seen.get(s.id)}]` });
    else seen.set(s.id, i);
  });

  const attributeKeys = new Set<string>();
  for (const s of steps) {
    if (s.type === 'set_attribute') attributeKeys.add(s.set_attribute.key);
    if (s.type === 'condition' && 'attribute' in s.condition.if) attributeKeys.add(s.condition.if.attribute.key);
    if (s.type === 'send_email') for (const f of mergeFieldsIn(s.send_email.subject, s.send_email.text, s.send_email.html)) if (f.startsWith('attributes.')) attributeKeys.add(f.slice(11));
  }
  const definitions = await definitionsByKey(db, institutionId, [...attributeKeys]);
  const defined = new Set(definitions.keys());

  for (const [i, s] of steps.entries()) {
    switch (s.type) {
      case 'send_email': {
        const o = s.send_email;
        for (const part of ['subject', 'text', 'html'] as const) {
          for (const f of mergeFieldsIn(o[part])) {
            const problem = mergeFieldProblem(f, { links: Object.keys(o.links ?? {}), attributeKeys: defined, allowContactLinks: true });
            if (problem) errors.push({ field: at(i, `send_email.${part}`), message: problem });
          }
        }
        break;
      }
      case 'notify_staff': {
        const o = s.notify_staff;
        for (const part of ['subject', 'text'] as const) {
          for (const f of mergeFieldsIn(o[part])) {
            const problem = mergeFieldProblem(f, { links: [], attributeKeys: defined, allowContactLinks: false });
            if (problem) errors.push({ field: at(i, `notify_staff.${part}`), message: problem });
          }
        }
        const wanted = o.to.map((e) => normalizeEmail(e) ?? e.toLowerCase());
        const users = await db.selectFrom('users').select('email').where('institution_id', '=', institutionId).where('email', 'in', wanted).execute();
        const found = new Set(users.map((u) => u.email.toLowerCase()));
        wanted.forEach((e, j) => {
          if (!found.has(e)) errors.push({ field: at(i, `notify_staff.to[${j}]`), message: 'is not the address of a user of this institution' });
        });
        break;
      }
      case 'wait': {
        const o = s.wait;
        if (!('until' in o) && o.days === undefined && o.hours === undefined && o.minutes === undefined) {
          errors.push({ field: at(i, 'wait'), message: 'give days, hours or minutes, or until (a date)' });
        }
        break;
      }
      case 'condition': {
        for (const branch of ['then', 'else'] as const) {
          const target = s.condition[branch];
          if (target !== undefined && target !== 'end' && !seen.has(target)) {
            errors.push({ field: at(i, `condition.${branch}`), message: `"${target}" is not the id of a step (nor "end")` });
          } else if (target !== undefined && target !== 'end' && seen.get(target)! <= i && !steps.slice(seen.get(target), i).some((x) => x.type === 'wait')) {
            // A loop without a wait would run its steps over and over without pause.
            errors.push({ field: at(i, `condition.${branch}`), message: `loops back to "${target}" without a wait step in between` });
          }
        }
        const test = s.condition.if;
        if ('attribute' in test && !defined.has(test.attribute.key)) {
          errors.push({ field: at(i, 'condition.if.attribute.key'), message: `"${test.attribute.key}" is not a custom attribute of this institution` });
        }
        break;
      }
      case 'set_attribute': {
        const o = s.set_attribute;
        if (!defined.has(o.key)) {
          errors.push({ field: at(i, 'set_attribute.key'), message: `"${o.key}" is not a custom attribute of this institution` });
        } else {
          const checked = checkContactAttributes({ [o.key]: o.value }, definitions);
          for (const e of checked.errors) errors.push({ field: at(i, 'set_attribute.value'), message: e.message });
        }
        break;
      }
      case 'webhook': {
        const found = await db
          .selectFrom('webhook_subscriptions')
          .select('id')
          .where('institution_id', '=', institutionId)
          .where('id', '=', s.webhook.subscriptionId)
          .executeTakeFirst();
        if (!found) errors.push({ field: at(i, 'webhook.subscriptionId'), message: 'is not a webhook subscription of this institution' });
        break;
      }
      case 'expunge':
      case 'anonymise':
      case 'archive':
        break;
    }
  }
  if (errors.length) throw refuse(errors);
  return { name: parsed.data.name, trigger: parsed.data.trigger, steps };
}
