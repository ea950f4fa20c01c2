import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Selectable } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import type { WebhookSubscriptionsTable } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { notFound } from '../http/problem.ts';
import { open, seal } from '../security/aead.ts';
import { webhookEventTypes } from './events.ts';

const urlSchema = z
  .string()
  .trim()
  .max(2000)
  .pipe(z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }));

export const createSubscriptionBody = z.strictObject({
  url: urlSchema,
  events: z.array(z.enum(webhookEventTypes)).min(1, 'name at least one event').max(webhookEventTypes.length * 2),
  description: z.string().trim().max(200).optional(),
});

export const updateSubscriptionBody = z.strictObject({
  url: urlSchema.optional(),
  events: z.array(z.enum(webhookEventTypes)).min(1, 'name at least one event').max(webhookEventTypes.length * 2).optional(),
  description: z.string().trim().max(200).nullable().optional(),
  active: z.boolean().optional().describe('false pauses deliveries; they wait and go out when switched back on'),
});

export const subscriptionView = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type SubscriptionView = z.infer<typeof subscriptionView>;

type Row = Selectable<WebhookSubscriptionsTable>;

const viewOf = (r: Row): SubscriptionView => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events),
  description: r.description,
  active: r.active === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const secretAad = (id: string) => `webhook:${id}`;

/** The signing secret of a subscription, unsealed for the deliverer. */
export function secretOf(masterKey: Buffer, row: Pick<Row, 'id' | 'secret_sealed'>): string {
  return open(masterKey, row.secret_sealed, secretAad(row.id)).toString('utf8');
}

async function findRow(db: Db, institutionId: string, id: string): Promise<Row> {
  const row = await db.selectFrom('webhook_subscriptions').selectAll().where('institution_id', '=', institutionId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Webhook subscription');
  return row;
}

export async function listSubscriptions(db: Db, institutionId: string): Promise<SubscriptionView[]> {
  const rows = await db.selectFrom('webhook_subscriptions').selectAll().where('institution_id', '=', institutionId).orderBy('created_at').orderBy('id').execute();
  return rows.map(viewOf);
}

export async function getSubscription(db: Db, institutionId: string, id: string): Promise<SubscriptionView> {
  return viewOf(await findRow(db, institutionId, id));
}

/** The secret is returned once, here; afterwards only its sealed form is stored. */
export async function createSubscription(
  ctx: AppContext,
  institutionId: string,
  input: z.output<typeof createSubscriptionBody>,
  actor: Actor,
): Promise<SubscriptionView & { secret: string }> {
  const id = newId();
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  const now = ctx.clock.now().toISOString();
  const row: Row = {
    id,
    institution_id: institutionId,
    url: input.url,
    description: input.description ?? null,
    events: JSON.stringify([...new Set(input.events)]),
    secret_sealed: seal(ctx.secrets.masterKey, secret, secretAad(id)),
    active: 1,
    created_by: actor.userId,
    created_at: now,
    updated_at: now,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('webhook_subscriptions').values(row).execute();
    await recordAudit(ctx, trx, { institutionId, actor, action: 'webhook.create', target: { type: 'webhook', id }, after: { url: row.url, events: JSON.parse(row.events) } });
  });
  return { ...viewOf(row), secret };
}

export async function updateSubscription(
  ctx: AppContext,
  institutionId: string,
  id: string,
  patch: z.output<typeof updateSubscriptionBody>,
  actor: Actor,
): Promise<SubscriptionView> {
  return ctx.db.transaction().execute(async (trx) => {
    const current = await findRow(trx, institutionId, id);
    const next: Row = {
      ...current,
      url: patch.url ?? current.url,
      events: patch.events ? JSON.stringify([...new Set(patch.events)]) : current.events,
      description: patch.description !== undefined ? patch.description : current.description,
      active: patch.active === undefined ? current.active : patch.active ? 1 : 0,
      updated_at: ctx.clock.now().toISOString(),
    };
    const changed = (['url', 'events', 'description', 'active'] as const).filter((k) => next[k] !== current[k]);
    if (changed.length === 0) return viewOf(current);
    await trx
      .updateTable('webhook_subscriptions')
      .set({ url: next.url, events: next.events, description: next.description, active: next.active, updated_at: next.updated_at })
      .where('id', '=', id)
      .execute();
    const pick = (r: Row) => Object.fromEntries(changed.map((k) => [k, k === 'events' ? JSON.parse(r.events) : r[k]]));
    await recordAudit(ctx, trx, { institutionId, actor, action: 'webhook.update', target: { type: 'webhook', id }, before: pick(current), after: pick(next) });
    return viewOf(next);
  });
}

/** Removes the subscription and its delivery log. */
export async function deleteSubscription(ctx: AppContext, institutionId: string, id: string, actor: Actor): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const current = await findRow(trx, institutionId, id);
    await trx.deleteFrom('webhook_deliveries').where('subscription_id', '=', id).execute();
    await trx.deleteFrom('webhook_subscriptions').where('id', '=', id).execute();
    await recordAudit(ctx, trx, { institutionId, actor, action: 'webhook.delete', target: { type: 'webhook', id }, before: { url: current.url } });
  });
}

/** Queues a `ping` to one subscriber, so an operator can check the endpoint and its signature check. */
export async function pingSubscription(ctx: AppContext, institutionId: string, id: string): Promise<{ deliveryId: string }> {
  await findRow(ctx.db, institutionId, id);
  const now = ctx.clock.now().toISOString();
  const eventId = newId();
  const deliveryId = newId();
  await ctx.db
    .insertInto('webhook_deliveries')
    .values({
      id: deliveryId,
      institution_id: institutionId,
      subscription_id: id,
      event_id: eventId,
      event_type: 'ping',
      payload: JSON.stringify({ id: eventId, type: 'ping', occurredAt: now, institutionId, data: {} }),
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      lease_expires_at: null,
      last_status_code: null,
      last_error: null,
      created_at: now,
      delivered_at: null,
    })
    .execute();
  return { deliveryId };
}
