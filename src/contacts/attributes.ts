import type { Selectable } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import type { AttributeDefinitionsTable, AttributeType } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { conflict, invalidField, notFound, type FieldError } from '../http/problem.ts';
import { isUniqueViolation } from '../db/unique-violation.ts';
import { attributeKeyPattern, checkAttributeValue, checkChoiceOptions, type StoredValue } from './attribute-values.ts';

export interface AttributeDefinition {
  id: string;
  key: string;
  label: string;
  type: AttributeType;
  options: string[] | null;
  createdAt: string;
}

export interface NewAttributeDefinition {
  key: string;
  label?: string;
  type: AttributeType;
  options?: string[] | null;
}

export interface AttributeDefinitionPatch {
  label?: string;
  type?: AttributeType;
  options?: string[] | null;
}

export function definitionOf(row: Selectable<AttributeDefinitionsTable>): AttributeDefinition {
  return {
    id: row.id,
    key: row.key,
    label: row.label,
    type: row.type,
    options: row.options ? (JSON.parse(row.options) as string[]) : null,
    createdAt: row.created_at,
  };
}

export async function listDefinitions(db: Db, institutionId: string): Promise<AttributeDefinition[]> {
  const rows = await db.selectFrom('attribute_definitions').selectAll().where('institution_id', '=', institutionId).orderBy('key').execute();
  return rows.map(definitionOf);
}

export async function getDefinition(db: Db, institutionId: string, id: string): Promise<AttributeDefinition> {
  const row = await db
    .selectFrom('attribute_definitions')
    .selectAll()
    .where('institution_id', '=', institutionId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('Attribute');
  return definitionOf(row);
}

export async function definitionsByKey(db: Db, institutionId: string, keys: string[]): Promise<Map<string, AttributeDefinition>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom('attribute_definitions')
    .selectAll()
    .where('institution_id', '=', institutionId)
    .where('key', 'in', keys)
    .execute();
  return new Map(rows.map((r) => [r.key, definitionOf(r)]));
}

/** Options belong to choice attributes only; a choice attribute must have valid ones. */
function optionsFor(type: AttributeType, options: string[] | null | undefined): string[] | null {
  if (type !== 'choice') {
    if (options && options.length) throw invalidField('options', 'only choice attributes have options');
    return null;
  }
  const checked = checkChoiceOptions(options);
  if (!checked.ok) throw invalidField('options', checked.message);
  return checked.value;
}

export async function createDefinition(ctx: AppContext, institutionId: string, input: NewAttributeDefinition, actor: Actor): Promise<AttributeDefinition> {
  if (!attributeKeyPattern.test(input.key)) {
    throw invalidField('key', 'must start with a lower-case letter and hold only a-z, 0-9 and _ (at most 64 characters)');
  }
  const options = optionsFor(input.type, input.options);
  const row = {
    id: newId(),
    institution_id: institutionId,
    key: input.key,
    label: input.label?.trim() || input.key,
    type: input.type,
    options: options ? JSON.stringify(options) : null,
    created_at: ctx.clock.now().toISOString(),
  };
  const taken = () => conflict(`An attribute with key "${input.key}" already exists.`, [{ field: 'key', message: 'is already taken' }]);
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('attribute_definitions')
        .select('id')
        .where('institution_id', '=', institutionId)
        .where('key', '=', input.key)
        .executeTakeFirst();
      if (existing) throw taken();
      await trx.insertInto('attribute_definitions').values(row).execute();
      await recordAudit(ctx, trx, {
        institutionId,
        actor,
        action: 'attribute.create',
        target: { type: 'attribute', id: row.id },
        after: { key: row.key, label: row.label, type: row.type, options },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw taken();
    throw error;
  }
  return definitionOf(row);
}

/**
 * Label and options may change freely as long as stored values stay valid: the type only while
 * no contact holds a value, and an option only while no contact holds it.
 */
export async function updateDefinition(
  ctx: AppContext,
  institutionId: string,
  id: string,
  patch: AttributeDefinitionPatch,
  actor: Actor,
): Promise<AttributeDefinition> {
  return ctx.db.transaction().execute(async (trx) => {
    const current = await getDefinition(trx, institutionId, id);
    const type = patch.type ?? current.type;
    const typeChanged = type !== current.type;
    const options = optionsFor(type, patch.options !== undefined ? patch.options : typeChanged ? null : current.options);
    const label = patch.label?.trim() || current.label;

    const values = trx.selectFrom('contact_attribute_values').where('attribute_id', '=', id);
    if (typeChanged) {
      const held = await values.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      if (Number(held.n) > 0) {
        throw conflict(`The type of "${current.key}" cannot change while ${held.n} contact(s) hold a value; remove those values first.`, [
          { field: 'type', message: 'cannot change while values exist' },
        ]);
      }
    } else if (type === 'choice' && options) {
      const kept = new Set(options);
      const used = await values.select('value_text').distinct().execute();
      const dropped = used.map((u) => u.value_text).filter((v) => !kept.has(v));
      if (dropped.length) {
        throw conflict(`Options still held by contacts cannot be removed: ${dropped.join(', ')}.`, [
          { field: 'options', message: `still in use: ${dropped.join(', ')}` },
        ]);
      }
    }

    const next = { label, type, options: options ? JSON.stringify(options) : null };
    const before = { label: current.label, type: current.type, options: current.options };
    await trx.updateTable('attribute_definitions').set(next).where('id', '=', id).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'attribute.update',
      target: { type: 'attribute', id },
      before,
      after: { label, type, options },
    });
    return { ...current, label, type, options };
  });
}

/** Deleting a definition removes every contact's value of it, in the same transaction. */
export async function deleteDefinition(ctx: AppContext, institutionId: string, id: string, actor: Actor): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const current = await getDefinition(trx, institutionId, id);
    const removed = await trx.deleteFrom('contact_attribute_values').where('attribute_id', '=', id).executeTakeFirst();
    await trx.deleteFrom('attribute_definitions').where('id', '=', id).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'attribute.delete',
      target: { type: 'attribute', id },
      before: { key: current.key, label: current.label, type: current.type, options: current.options },
      meta: { valuesRemoved: Number(removed.numDeletedRows) },
    });
  });
}

/** A contact's new value of one attribute, in stored form; null removes it. */
export interface CheckedAttributeValue {
  definition: AttributeDefinition;
  stored: StoredValue | null;
}

/** Validates one contact's attribute values against the definitions; errors name `attributes.<key>`. */
export function checkContactAttributes(
  input: Record<string, unknown>,
  definitions: Map<string, AttributeDefinition>,
): { values: Map<string, CheckedAttributeValue>; errors: FieldError[] } {
  const values = new Map<string, CheckedAttributeValue>();
  const errors: FieldError[] = [];
  for (const [key, raw] of Object.entries(input)) {
    const definition = definitions.get(key);
    if (!definition) {
      errors.push({ field: `attributes.${key}`, message: 'is not a defined attribute (see GET /api/attributes)' });
      continue;
    }
    if (raw === null) {
      values.set(key, { definition, stored: null });
      continue;
    }
    const checked = checkAttributeValue(definition, raw);
    if (checked.ok) values.set(key, { definition, stored: checked.value });
    else errors.push({ field: `attributes.${key}`, message: checked.message });
  }
  return { values, errors };
}
