import type { AppContext } from '../context.ts';
import type { Actor } from '../audit/audit-log.ts';
import { createDefinition, definitionsByKey, type AttributeDefinition } from '../contacts/attributes.ts';
import { createEmployer } from '../contacts/employers.ts';
import { foldName } from '../contacts/normalize.ts';
import { conflict, Problem } from '../http/problem.ts';

/**
 * Seed 001's archive patterns use two records every institution shares: an employer named
 * "Inactive" (found by name, in any case; created on first use) and a boolean custom attribute
 * "Inactive / Do not email" that every marketing send honours (src/mail/policy.ts).
 */
export const INACTIVE_EMPLOYER_NAME = 'Inactive';
export const DO_NOT_EMAIL_KEY = 'do_not_email';

export async function ensureInactiveEmployer(ctx: AppContext, institutionId: string, actor: Actor): Promise<string> {
  const find = () =>
    ctx.db
      .selectFrom('employers')
      .select('id')
      .where('institution_id', '=', institutionId)
      .where('name_folded', '=', foldName(INACTIVE_EMPLOYER_NAME))
      .executeTakeFirst();
  const existing = await find();
  if (existing) return existing.id;
  try {
    return (await createEmployer(ctx, institutionId, INACTIVE_EMPLOYER_NAME, actor)).id;
  } catch (error) {
    // Another request created it at the same moment.
    const raced = error instanceof Problem && error.status === 409 ? await find() : undefined;
    if (raced) return raced.id;
    throw error;
  }
}

export async function ensureDoNotEmailAttribute(ctx: AppContext, institutionId: string, actor: Actor): Promise<AttributeDefinition> {
  const find = async () => (await definitionsByKey(ctx.db, institutionId, [DO_NOT_EMAIL_KEY])).get(DO_NOT_EMAIL_KEY);
  let definition = await find();
  if (!definition) {
    try {
      definition = await createDefinition(ctx, institutionId, { key: DO_NOT_EMAIL_KEY, label: 'Inactive / Do not email', type: 'boolean' }, actor);
    } catch (error) {
      definition = error instanceof Problem && error.status === 409 ? await find() : undefined;
      if (!definition) throw error;
    }
  }
  if (definition.type !== 'boolean') {
    throw conflict(`The attribute "${DO_NOT_EMAIL_KEY}" exists with type ${definition.type}; archiving needs it to be a boolean (true/false) attribute.`, [
      { field: 'doNotEmail', message: `attribute "${DO_NOT_EMAIL_KEY}" must be boolean` },
    ]);
  }
  return definition;
}
