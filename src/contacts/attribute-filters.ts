import type { ExpressionBuilder } from 'kysely';
import type { AppContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { invalidFields, type FieldError } from '../http/problem.ts';
import { checkAttributeValue, checkRangeBound } from './attribute-values.ts';
import { definitionsByKey, type AttributeDefinition } from './attributes.ts';

/** A directory filter on a custom attribute, as the query string spells it. */
export interface AttributeFilter {
  key: string;
  op: 'eq' | 'gte' | 'lte';
  /** eq: any of these values; gte/lte: one bound */
  values: string[];
}

/**
 * Reads `attr.<key>=v` (repeatable: any of), `attr.<key>.gte=v` and `attr.<key>.lte=v` from a
 * query string object.
 */
export function attributeFiltersFromQuery(query: Record<string, unknown>): AttributeFilter[] {
  const filters: AttributeFilter[] = [];
  for (const [name, raw] of Object.entries(query)) {
    const m = /^attr\.([^.]+)(?:\.(gte|lte))?$/.exec(name);
    if (!m || raw === undefined) continue;
    const values = (Array.isArray(raw) ? raw : [raw]).map(String);
    filters.push({ key: m[1], op: (m[2] as 'gte' | 'lte' | undefined) ?? 'eq', values });
  }
  return filters;
}

export interface ResolvedAttributeFilter {
  field: string;
  definition: AttributeDefinition;
  op: AttributeFilter['op'];
  texts: string[];
  bound: number | null;
}

/** Checks each filter against its definition and puts its values in stored form; 422 names every bad one. */
export async function resolveAttributeFilters(ctx: AppContext, institutionId: string, filters: AttributeFilter[]): Promise<ResolvedAttributeFilter[]> {
  const definitions = await definitionsByKey(ctx.db, institutionId, [...new Set(filters.map((f) => f.key))]);
  const errors: FieldError[] = [];
  const resolved: ResolvedAttributeFilter[] = [];
  for (const f of filters) {
    const field = f.op === 'eq' ? `attr.${f.key}` : `attr.${f.key}.${f.op}`;
    const definition = definitions.get(f.key);
    if (!definition) {
      errors.push({ field, message: 'is not a defined attribute (see GET /api/attributes)' });
      continue;
    }
    if (f.op === 'eq') {
      const texts: string[] = [];
      for (const v of f.values) {
        const checked = checkAttributeValue(definition, v);
        if (checked.ok) texts.push(checked.value.valueText);
        else errors.push({ field, message: checked.message });
      }
      resolved.push({ field, definition, op: f.op, texts, bound: null });
    } else {
      if (f.values.length !== 1) {
        errors.push({ field, message: 'takes one value' });
        continue;
      }
      const checked = checkRangeBound(definition, f.values[0]);
      if (checked.ok) resolved.push({ field, definition, op: f.op, texts: [], bound: checked.value });
      else errors.push({ field, message: checked.message });
    }
  }
  if (errors.length) throw invalidFields(errors, `Some directory filters are not valid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`);
  return resolved;
}

/** The contact ids whose value matches, along (attribute_id, value_text) or (attribute_id, value_number). */
export function attributeValues(eb: ExpressionBuilder<Database, 'contacts'>, f: ResolvedAttributeFilter) {
  let q = eb.selectFrom('contact_attribute_values as v').select('v.contact_id').where('v.attribute_id', '=', f.definition.id);
  if (f.op === 'eq') q = q.where('v.value_text', 'in', f.texts);
  else q = q.where('v.value_number', f.op === 'gte' ? '>=' : '<=', f.bound);
  return q;
}

