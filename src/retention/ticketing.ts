import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { orderKinds, orderRoles } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { invalidFields, notFound, type FieldError } from '../http/problem.ts';
import { candidatesOf } from './recency-rules.ts';
import { noteRecency, type RecencyNote } from './recency-store.ts';
import { contactsInTenant } from '../contacts/by-ids.ts';

/**
 * The ticketing records seed 004's recency is computed from, as a ticketing system feeds them.
 * Each write moves the recency of the contacts it names in the same transaction. Orders, options
 * and waiting-list entries carry the ticketing system's own reference where it has one, so a
 * resent record is recognised and not counted twice.
 */

const instant = z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString());
const day = z.union([z.iso.date(), z.iso.datetime({ offset: true })]).transform((v) => new Date(v.length === 10 ? `${v}T00:00:00Z` : v).toISOString());
const ref = z.string().trim().min(1).max(200);
const name = z.string().trim().min(1).max(200);

export const orderBody = z.strictObject({
  externalRef: ref.describe("the ticketing system's order id; sending the same order again returns the stored one"),
  organizationId: z.string().max(100).nullable().optional().describe('the organization that sold it'),
  kind: z.enum(orderKinds).describe('reservation or sale: both count as activity'),
  orderedAt: instant,
  contacts: z
    .array(z.strictObject({ contactId: z.string().min(1).max(100), role: z.enum(orderRoles).describe('purchase contact or cultural contact') }))
    .max(50)
    .default([]),
  lines: z
    .array(
      z.strictObject({
        product: name.describe('product or performance name (no personal data)'),
        dated: z.boolean().describe('a dated product (a performance, a match) counts at its validity date'),
        validityDate: day.nullable().optional(),
        quantity: z.number().int().min(1).max(100_000).default(1),
        amountCents: z.number().int().min(0).default(0),
        beneficiary: z.strictObject({ firstName: name, lastName: name }).nullable().optional().describe('the name on the ticket, for someone who is not a contact'),
      }),
    )
    .max(1000)
    .default([]),
});
export type OrderInput = z.output<typeof orderBody>;

export const optionBody = z.strictObject({
  externalRef: ref,
  contactId: z.string().min(1).max(100),
  organizationId: z.string().max(100).nullable().optional(),
  product: name,
  acquiredAt: instant,
  confirmedAt: instant.nullable().optional(),
});
export const confirmOptionBody = z.strictObject({ confirmedAt: instant });
export const waitlistBody = z.strictObject({
  contactId: z.string().min(1).max(100),
  organizationId: z.string().max(100).nullable().optional(),
  product: name,
  addedAt: instant,
});
export const paymentBody = z.strictObject({ amountCents: z.number().int().min(0), paidAt: instant });

export const orderView = z.object({
  id: z.string(),
  externalRef: z.string(),
  organizationId: z.string().nullable(),
  kind: z.enum(orderKinds),
  orderedAt: z.string(),
  contacts: z.array(z.object({ contactId: z.string(), role: z.enum(orderRoles) })),
  lines: z.array(
    z.object({
      id: z.string(),
      product: z.string(),
      dated: z.boolean(),
      validityDate: z.string().nullable(),
      quantity: z.number(),
      amountCents: z.number(),
      beneficiary: z.object({ firstName: z.string(), lastName: z.string() }).nullable(),
      beneficiaryAnonymised: z.boolean(),
    }),
  ),
  payments: z.array(z.object({ id: z.string(), amountCents: z.number(), paidAt: z.string() })),
});
export type OrderView = z.infer<typeof orderView>;

export const optionView = z.object({ id: z.string(), externalRef: z.string(), contactId: z.string(), product: z.string(), acquiredAt: z.string(), confirmedAt: z.string().nullable() });
export const waitlistView = z.object({ id: z.string(), contactId: z.string(), product: z.string(), addedAt: z.string() });

/** 422 naming each field whose contact or organization is not this institution's. */
async function checkRefs(db: Db, institutionId: string, contacts: { field: string; id: string }[], organization: { field: string; id: string | null | undefined }): Promise<void> {
  const errors: FieldError[] = [];
  const ids = [...new Set(contacts.map((c) => c.id))];
  const found = ids.length ? new Set((await db.selectFrom('contacts').select('id').where(contactsInTenant(db, institutionId, ids)).execute()).map((r) => r.id)) : new Set<string>();
  for (const c of contacts) if (!found.has(c.id)) errors.push({ field: c.field, message: 'is not a contact of this institution' });
  if (organization.id) {
    const org = await db.selectFrom('organizations').select('id').where('institution_id', '=', institutionId).where('id', '=', organization.id).executeTakeFirst();
    if (!org) errors.push({ field: organization.field, message: 'is not an organization of this institution' });
  }
  if (errors.length) throw invalidFields(errors, `Nothing was recorded: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`);
}

export async function recordOrder(ctx: AppContext, institutionId: string, input: OrderInput): Promise<{ created: boolean; order: OrderView }> {
  const lineErrors: FieldError[] = input.lines.flatMap((l, i) => (l.dated && !l.validityDate ? [{ field: `lines.${i}.validityDate`, message: 'is required for a dated product' }] : []));
  if (lineErrors.length) throw invalidFields(lineErrors, 'A dated product needs its validity date.');
  return ctx.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('ticket_orders').select('id').where('institution_id', '=', institutionId).where('external_ref', '=', input.externalRef).executeTakeFirst();
    if (existing) return { created: false, order: (await getOrder(trx, institutionId, existing.id))! };
    await checkRefs(trx, institutionId, input.contacts.map((c, i) => ({ field: `contacts.${i}.contactId`, id: c.contactId })), { field: 'organizationId', id: input.organizationId });
    const now = ctx.clock.now().toISOString();
    const id = newId();
    await trx
      .insertInto('ticket_orders')
      .values({ id, institution_id: institutionId, organization_id: input.organizationId ?? null, external_ref: input.externalRef, kind: input.kind, ordered_at: input.orderedAt, created_at: now })
      .execute();
    const roles = [...new Map(input.contacts.map((c) => [`${c.contactId}:${c.role}`, c])).values()];
    if (roles.length) await trx.insertInto('ticket_order_contacts').values(roles.map((c) => ({ order_id: id, contact_id: c.contactId, institution_id: institutionId, role: c.role }))).execute();
    if (input.lines.length) {
      await trx
        .insertInto('ticket_order_lines')
        .values(
          input.lines.map((l, position) => ({
            id: newId(),
            order_id: id,
            institution_id: institutionId,
            position,
            product: l.product,
            dated: l.dated ? (1 as const) : (0 as const),
            validity_date: l.dated ? (l.validityDate ?? null) : null,
            quantity: l.quantity,
            amount_cents: l.amountCents,
            beneficiary_first_name: l.beneficiary?.firstName ?? null,
            beneficiary_last_name: l.beneficiary?.lastName ?? null,
            beneficiary_anonymised_at: null,
          })),
        )
        .execute();
    }
    const notes: RecencyNote[] = [];
    for (const c of roles) {
      const lines = input.lines.map((l) => ({ dated: l.dated, validityDate: l.validityDate ?? null }));
      for (const cand of candidatesOf({ kind: 'order', id, orderKind: input.kind, role: c.role, orderedAt: input.orderedAt, lines })) {
        notes.push({ institutionId, contactId: c.contactId, at: cand.at, reason: cand.reason as RecencyNote['reason'], sourceId: id });
      }
    }
    await noteRecency(trx, notes);
    return { created: true, order: (await getOrder(trx, institutionId, id))! };
  });
}

export async function getOrder(db: Db, institutionId: string, orderId: string): Promise<OrderView | null> {
  const order = await db.selectFrom('ticket_orders').selectAll().where('institution_id', '=', institutionId).where('id', '=', orderId).executeTakeFirst();
  if (!order) return null;
  const [contacts, lines, payments] = await Promise.all([
    db.selectFrom('ticket_order_contacts').select(['contact_id', 'role']).where('order_id', '=', orderId).orderBy('contact_id').execute(),
    db.selectFrom('ticket_order_lines').selectAll().where('order_id', '=', orderId).orderBy('position').execute(),
    db.selectFrom('ticket_payments').selectAll().where('order_id', '=', orderId).orderBy('id').execute(),
  ]);
  return {
    id: order.id,
    externalRef: order.external_ref,
    organizationId: order.organization_id,
    kind: order.kind,
    orderedAt: order.ordered_at,
    contacts: contacts.map((c) => ({ contactId: c.contact_id, role: c.role })),
    lines: lines.map((l) => ({
      id: l.id,
      product: l.product,
      dated: l.dated === 1,
      validityDate: l.validity_date,
      quantity: Number(l.quantity),
      amountCents: Number(l.amount_cents),
      beneficiary: l.beneficiary_last_name !== null ? { firstName: l.beneficiary_first_name ?? '', lastName: l.beneficiary_last_name } : null,
      beneficiaryAnonymised: l.beneficiary_anonymised_at !== null,
    })),
    payments: payments.map((p) => ({ id: p.id, amountCents: Number(p.amount_cents), paidAt: p.paid_at })),
  };
}

/** Completing a payment is recorded for the order's history; it does not move anyone's recency (seed 004). */
export async function recordPayment(ctx: AppContext, institutionId: string, orderId: string, input: z.output<typeof paymentBody>): Promise<OrderView> {
  return ctx.db.transaction().execute(async (trx) => {
    const order = await trx.selectFrom('ticket_orders').select('id').where('institution_id', '=', institutionId).where('id', '=', orderId).executeTakeFirst();
    if (!order) throw notFound('Order');
    await trx
      .insertInto('ticket_payments')
      .values({ id: newId(), order_id: orderId, institution_id: institutionId, amount_cents: input.amountCents, paid_at: input.paidAt, created_at: ctx.clock.now().toISOString() })
      .execute();
    return (await getOrder(trx, institutionId, orderId))!;
  });
}

type OptionRow = { id: string; external_ref: string; contact_id: string; product: string; acquired_at: string; confirmed_at: string | null };
const optionOut = (o: OptionRow) => ({ id: o.id, externalRef: o.external_ref, contactId: o.contact_id, product: o.product, acquiredAt: o.acquired_at, confirmedAt: o.confirmed_at });

export async function recordOption(ctx: AppContext, institutionId: string, input: z.output<typeof optionBody>): Promise<{ created: boolean; option: z.infer<typeof optionView> }> {
  return ctx.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('ticket_options').selectAll().where('institution_id', '=', institutionId).where('external_ref', '=', input.externalRef).executeTakeFirst();
    if (existing) return { created: false, option: optionOut(existing) };
    await checkRefs(trx, institutionId, [{ field: 'contactId', id: input.contactId }], { field: 'organizationId', id: input.organizationId });
    const row = {
      id: newId(),
      institution_id: institutionId,
      organization_id: input.organizationId ?? null,
      contact_id: input.contactId,
      external_ref: input.externalRef,
      product: input.product,
      acquired_at: input.acquiredAt,
      confirmed_at: input.confirmedAt ?? null,
      created_at: ctx.clock.now().toISOString(),
    };
    await trx.insertInto('ticket_options').values(row).execute();
    const cands = candidatesOf({ kind: 'option', id: row.id, acquiredAt: row.acquired_at, confirmedAt: row.confirmed_at });
    await noteRecency(trx, cands.map((c) => ({ institutionId, contactId: row.contact_id, at: c.at, reason: c.reason as RecencyNote['reason'], sourceId: row.id })));
    return { created: true, option: optionOut(row) };
  });
}

/** Confirming an option is activity of its own (seed 004), at the confirmation date. */
export async function confirmOption(ctx: AppContext, institutionId: string, optionId: string, confirmedAt: string): Promise<z.infer<typeof optionView>> {
  return ctx.db.transaction().execute(async (trx) => {
    const option = await trx.selectFrom('ticket_options').selectAll().where('institution_id', '=', institutionId).where('id', '=', optionId).executeTakeFirst();
    if (!option) throw notFound('Option');
    if (option.confirmed_at) return optionOut(option);
    await trx.updateTable('ticket_options').set({ confirmed_at: confirmedAt }).where('id', '=', optionId).execute();
    await noteRecency(trx, [{ institutionId, contactId: option.contact_id, at: confirmedAt, reason: 'option_confirmed', sourceId: optionId }]);
    return optionOut({ ...option, confirmed_at: confirmedAt });
  });
}

export async function addToWaitlist(ctx: AppContext, institutionId: string, input: z.output<typeof waitlistBody>): Promise<z.infer<typeof waitlistView>> {
  return ctx.db.transaction().execute(async (trx) => {
    await checkRefs(trx, institutionId, [{ field: 'contactId', id: input.contactId }], { field: 'organizationId', id: input.organizationId });
    const id = newId();
    await trx
      .insertInto('waitlist_entries')
      .values({ id, institution_id: institutionId, organization_id: input.organizationId ?? null, contact_id: input.contactId, product: input.product, added_at: input.addedAt, created_at: ctx.clock.now().toISOString() })
      .execute();
    await noteRecency(trx, [{ institutionId, contactId: input.contactId, at: input.addedAt, reason: 'waitlist', sourceId: id }]);
    return { id, contactId: input.contactId, product: input.product, addedAt: input.addedAt };
  });
}
