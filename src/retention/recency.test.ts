import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { recordActivity } from '../activity/events.ts';
import { sql } from 'kysely';
import { bestRecencyPerContact, rebuildRecency } from './recency-rebuild.ts';
import { addToWaitlist, confirmOption, recordOption, recordOrder, recordPayment } from './ticketing.ts';
import { newContact, post, recencyOfContact, sale } from './test-support.ts';

describeEachEngine('recency: ticketing feed and activity move it, the rebuild agrees', (h) => {
  it('records orders, options, waiting lists and payments, and shows each contact’s recency and reason', async () => {
    const t = await h.tenant();
    const [org] = t.organizationIds;
    const buyer = await newContact(h, t, 'Buyer');
    const culture = await newContact(h, t, 'Culture');
    const idle = await newContact(h, t, 'Idle');

    expect(await recencyOfContact(h, t.admin.token, idle)).toMatchObject({ recency: h.clock.now().toISOString(), reason: 'created' });

    const order = await post(h, t.admin.token, '/api/ticketing/orders', {
      externalRef: 'ORD-1',
      organizationId: org,
      kind: 'sale',
      orderedAt: '2026-01-10T10:00:00Z',
      contacts: [
        { contactId: buyer, role: 'purchase' },
        { contactId: culture, role: 'cultural' },
      ],
      lines: [
        { product: 'Concert', dated: true, validityDate: '2026-06-01', amountCents: 5000, beneficiary: { firstName: 'Benny', lastName: 'Ficiary' } },
        { product: 'Programme', dated: false, amountCents: 500 },
      ],
    });
    expect(order.lines[0].beneficiary).toEqual({ firstName: 'Benny', lastName: 'Ficiary' });
    expect(await recencyOfContact(h, t.admin.token, buyer)).toMatchObject({ recency: '2026-06-01T00:00:00.000Z', reason: 'sale', sourceId: order.id });
    expect((await recencyOfContact(h, t.admin.token, culture)).recency).toBe('2026-06-01T00:00:00.000Z');

    // Resending the same order is recognised, not counted twice.
    const again = await post(h, t.admin.token, '/api/ticketing/orders', { externalRef: 'ORD-1', kind: 'sale', orderedAt: '2026-01-10T10:00:00Z' }, 200);
    expect(again.id).toBe(order.id);

    // A payment completes the order but is not activity.
    await post(h, t.admin.token, `/api/ticketing/orders/${order.id}/payments`, { amountCents: 5500, paidAt: '2026-12-01T00:00:00Z' });
    expect((await recencyOfContact(h, t.admin.token, buyer)).recency).toBe('2026-06-01T00:00:00.000Z');

    const option = await post(h, t.admin.token, '/api/ticketing/options', { externalRef: 'OPT-1', contactId: idle, product: 'Gala', acquiredAt: '2026-02-01T00:00:00Z' });
    expect(await recencyOfContact(h, t.admin.token, idle)).toMatchObject({ recency: '2026-02-01T00:00:00.000Z', reason: 'option_acquired' });
    await post(h, t.admin.token, `/api/ticketing/options/${option.id}/confirm`, { confirmedAt: '2026-02-05T00:00:00Z' }, 200);
    expect(await recencyOfContact(h, t.admin.token, idle)).toMatchObject({ recency: '2026-02-05T00:00:00.000Z', reason: 'option_confirmed' });
    await post(h, t.admin.token, '/api/ticketing/waitlist', { contactId: idle, product: 'Sold-out show', addedAt: '2026-03-01T00:00:00Z' });
    expect(await recencyOfContact(h, t.admin.token, idle)).toMatchObject({ recency: '2026-03-01T00:00:00.000Z', reason: 'waitlist' });
  });

  it('refuses bad records with field errors, and another tenant’s ids', async () => {
    const t = await h.tenant();
    const other = await h.tenant();
    const theirs = await newContact(h, other, 'Theirs');
    const bad = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/ticketing/orders',
      payload: { externalRef: 'X', kind: 'sale', orderedAt: '2026-01-01T00:00:00Z', contacts: [{ contactId: theirs, role: 'purchase' }], lines: [] },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([{ field: 'contacts.0.contactId', message: 'is not a contact of this institution' }]);
    const dated = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/ticketing/orders',
      payload: { externalRef: 'Y', kind: 'sale', orderedAt: '2026-01-01T00:00:00Z', lines: [{ product: 'Match', dated: true }] },
    });
    expect(dated.statusCode).toBe(422);
    expect(dated.json().errors[0].field).toBe('lines.0.validityDate');
    const role = await h.request(t.admin.token, { method: 'POST', url: '/api/ticketing/orders', payload: { externalRef: 'Z', kind: 'gift', orderedAt: 'yesterday' } });
    expect(role.statusCode, role.body).toBe(400);
    expect(role.json().errors.map((e: { field: string }) => e.field)).toEqual(['kind', 'orderedAt']);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${theirs}/recency` })).statusCode).toBe(404);
    const theirOrder = await post(h, other.admin.token, '/api/ticketing/orders', sale(theirs, 'THEIRS-1', '2026-01-01T00:00:00Z'));
    const theirOption = await post(h, other.admin.token, '/api/ticketing/options', { externalRef: 'THEIRS-O', contactId: theirs, product: 'P', acquiredAt: '2026-01-01T00:00:00Z' });
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/ticketing/orders/${theirOrder.id}` })).statusCode).toBe(404);
    expect((await h.request(t.admin.token, { method: 'POST', url: `/api/ticketing/orders/${theirOrder.id}/payments`, payload: { amountCents: 1, paidAt: '2026-01-02T00:00:00Z' } })).statusCode).toBe(404);
    expect((await h.request(t.admin.token, { method: 'POST', url: `/api/ticketing/options/${theirOption.id}/confirm`, payload: { confirmedAt: '2026-01-02T00:00:00Z' } })).statusCode).toBe(404);
    const staff = await h.user(t, 'employer_user');
    expect((await h.request(staff.token, { method: 'POST', url: '/api/ticketing/orders', payload: sale(theirs, 'W', '2026-01-01T00:00:00Z') })).statusCode).toBe(403);
  });

  it('criterion changes and authorization changes count (the latter only while one is still yes)', async () => {
    const t = await h.tenant();
    await post(h, t.admin.token, '/api/attributes', { key: 'favourite_genre', label: 'Favourite genre', type: 'text' });
    const id = await newContact(h, t, 'Crit', 'Erion', { authorizations: { newsletter: true, partners: false } });
    h.clock.advanceDays(10);
    const patch = (payload: object) => h.request(t.admin.token, { method: 'PATCH', url: `/api/contacts/${id}`, payload });
    expect((await patch({ attributes: { favourite_genre: 'opera' } })).statusCode).toBe(200);
    const criterion = h.clock.now().toISOString();
    expect(await recencyOfContact(h, t.admin.token, id)).toMatchObject({ recency: criterion, reason: 'criterion_change' });
    h.clock.advanceDays(10);
    expect((await patch({ authorizations: { partners: true } })).statusCode).toBe(200);
    const stillYes = h.clock.now().toISOString();
    expect(await recencyOfContact(h, t.admin.token, id)).toMatchObject({ recency: stillYes, reason: 'authorization_change' });
    h.clock.advanceDays(10);
    expect((await patch({ authorizations: { partners: false, newsletter: false } })).statusCode).toBe(200);
    expect(await recencyOfContact(h, t.admin.token, id)).toMatchObject({ recency: stillYes, reason: 'authorization_change' });
  });

  it('a merge gives the survivor the later of both contacts’ recency, as a rebuild would', async () => {
    const t = await h.tenant();
    const survivor = await newContact(h, t, 'Merge', 'Survivor');
    const other = await newContact(h, t, 'Merge', 'Other');
    await post(h, t.admin.token, '/api/ticketing/orders', sale(survivor, 'M-1', '2024-01-01T00:00:00Z'));
    const entry = await post(h, t.admin.token, '/api/ticketing/waitlist', { contactId: other, product: 'Gala', addedAt: '2025-05-01T00:00:00Z' });
    const merged = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${survivor}/merge`, payload: { otherId: other } });
    expect(merged.statusCode, merged.body).toBe(200);
    expect(await recencyOfContact(h, t.admin.token, survivor)).toEqual({ contactId: survivor, recency: '2025-05-01T00:00:00.000Z', reason: 'waitlist', sourceId: entry.id });
    const before = await h.ctx.db.selectFrom('contact_recency').select(['contact_id', 'recency_at', 'reason']).where('institution_id', '=', t.institutionId).execute();
    await rebuildRecency(h.ctx, t.institutionId);
    expect(await h.ctx.db.selectFrom('contact_recency').select(['contact_id', 'recency_at', 'reason']).where('institution_id', '=', t.institutionId).execute()).toEqual(before);
  });

  it('a rebuild of one institution leaves another’s recency alone, and reads events and orders from their recency indexes', async () => {
    const t = await h.tenant();
    const other = await h.tenant();
    const mine = await newContact(h, t, 'Rebuilt');
    const theirs = await newContact(h, other, 'Untouched');
    await post(h, t.admin.token, '/api/ticketing/orders', sale(mine, 'RB-1', '2024-01-01T00:00:00Z'));
    await post(h, other.admin.token, '/api/ticketing/orders', sale(theirs, 'RB-2', '2024-02-01T00:00:00Z'));
    await h.ctx.db.transaction().execute((trx) =>
      recordActivity(trx, { institutionId: t.institutionId, contactId: mine, organizationId: null, actorUserId: null, type: 'link.clicked', occurredAt: '2024-01-01T00:00:00.000Z', data: {} }),
    );
    await rebuildRecency(h.ctx, t.institutionId);
    // Same instant as the order: the click ranks higher.
    expect(await recencyOfContact(h, t.admin.token, mine)).toMatchObject({ recency: '2024-01-01T00:00:00.000Z', reason: 'link_click', sourceId: null });
    expect(await recencyOfContact(h, other.admin.token, theirs)).toMatchObject({ recency: '2024-02-01T00:00:00.000Z', reason: 'sale' });
    if (h.ctx.store.kind === 'sqlite') {
      // The rebuild's speed rests on these plans: the activity filter must match the partial index's predicate (migration 0010).
      const plan = await sql<{ detail: string }>`explain query plan ${bestRecencyPerContact(h.ctx.db, { institutionId: t.institutionId })}`.execute(h.ctx.db);
      const details = plan.rows.map((r) => r.detail).join('\n');
      expect(details).toContain('INDEX activity_recency');
      expect(details).toContain('COVERING INDEX ticket_orders_recency');
      const index = await sql`select name from sqlite_master where type = 'index' and name = 'contact_recency_institution'`.execute(h.ctx.db);
      expect(index.rows).toHaveLength(1);
    }
  });

  it('property: maintained incrementally or rebuilt from scratch, every contact’s recency is the same', async () => {
    const t = await h.tenant();
    const [orgA, orgB] = t.organizationIds;
    const contacts: string[] = [];
    for (let i = 0; i < 4; i++) contacts.push(await newContact(h, t, `Prop${i}`));
    const day = fc.integer({ min: 0, max: 2000 }).map((n) => new Date(Date.UTC(2020, 0, 1) + n * 86_400_000).toISOString());
    const who = fc.integer({ min: 0, max: contacts.length - 1 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('order' as const), who, who2: fc.option(who, { nil: null }), sale: fc.boolean(), at: day, lines: fc.array(fc.record({ dated: fc.boolean(), at: day }), { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('option' as const), who, at: day, confirm: fc.option(day, { nil: null }) }),
      fc.record({ kind: fc.constant('waitlist' as const), who, at: day }),
      fc.record({ kind: fc.constant('activity' as const), who, at: day, type: fc.constantFrom('link.clicked', 'contact.criterion_changed', 'consent.authorization_changed', 'note.added'), anyGranted: fc.boolean() }),
      fc.record({ kind: fc.constant('payment' as const), at: day }),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        const orders: string[] = [];
        for (const o of ops) {
          const ref = `P${++n}`;
          if (o.kind === 'order') {
            const roles = [{ contactId: contacts[o.who], role: 'purchase' as const }, ...(o.who2 !== null ? [{ contactId: contacts[o.who2], role: 'cultural' as const }] : [])];
            const lines = o.lines.map((l) => ({ product: 'P', dated: l.dated, validityDate: l.dated ? l.at : null, quantity: 1, amountCents: 0 }));
            const { order } = await recordOrder(h.ctx, t.institutionId, { externalRef: ref, organizationId: o.sale ? orgA : orgB, kind: o.sale ? 'sale' : 'reservation', orderedAt: o.at, contacts: roles, lines });
            orders.push(order.id);
          } else if (o.kind === 'option') {
            const { option } = await recordOption(h.ctx, t.institutionId, { externalRef: ref, contactId: contacts[o.who], product: 'P', acquiredAt: o.at });
            if (o.confirm) await confirmOption(h.ctx, t.institutionId, option.id, o.confirm);
          } else if (o.kind === 'waitlist') {
            await addToWaitlist(h.ctx, t.institutionId, { contactId: contacts[o.who], product: 'P', addedAt: o.at });
          } else if (o.kind === 'payment') {
            if (orders.length) await recordPayment(h.ctx, t.institutionId, orders[0], { amountCents: 1, paidAt: o.at });
          } else {
            await h.ctx.db.transaction().execute((trx) =>
              recordActivity(trx, { institutionId: t.institutionId, contactId: contacts[o.who], organizationId: null, actorUserId: null, type: o.type, occurredAt: o.at, data: { anyGranted: o.anyGranted } }),
            );
          }
        }
        const snapshot = async () =>
          (await h.ctx.db.selectFrom('contact_recency').select(['contact_id', 'recency_at', 'reason']).where('institution_id', '=', t.institutionId).orderBy('contact_id').execute()).map((r) => ({
            ...r,
            recency_at: new Date(r.recency_at).toISOString(),
          }));
        const incremental = await snapshot();
        await rebuildRecency(h.ctx, t.institutionId);
        expect(await snapshot()).toEqual(incremental);
      }),
      { numRuns: 12 },
    );
  });
});
