import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { listAudit } from '../audit/audit-log.ts';
import { deliverDueWebhooks } from './delivery.ts';
import { MAX_DELIVERY_ATTEMPTS, verifySignature } from './signature.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1 that records what arrives and can answer errors on demand. */
let received: Received[] = [];
let failNext = 0;
let server: http.Server;
let url: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end('try later');
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lethe-hook`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describeEachEngine('erasure webhooks', (h) => {
  it('delivers signed contact.deleted / contact.expunged / contact.restored events with ids only, and logs each delivery', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const created = await api.call('POST', '/api/webhooks', { url, events: ['contact.deleted', 'contact.expunged', 'contact.restored'], description: 'CRM sync' });
    expect(created.statusCode, created.body).toBe(201);
    const { id: subscriptionId, secret } = created.json();
    expect(secret).toMatch(/^whsec_/);
    expect((await api.get(`/api/webhooks/${subscriptionId}`)).secret).toBeUndefined();
    const stored = await h.ctx.db.selectFrom('webhook_subscriptions').select('secret_sealed').where('id', '=', subscriptionId).executeTakeFirstOrThrow();
    expect(stored.secret_sealed).not.toContain(secret);

    const soft = await api.createContact({ firstName: 'Soft', lastName: 'Deleted', email: 'soft@example.org' });
    const hard = await api.createContact({ firstName: 'Hard', lastName: 'Deleted', email: 'hard@example.org' });
    const gone = await api.createContact({ firstName: 'Ex', lastName: 'Punged', email: 'ex@example.org' });
    await api.call('POST', `/api/contacts/${soft.id}/disable`);
    await api.call('POST', `/api/contacts/${soft.id}/restore`);
    await api.call('DELETE', `/api/contacts/${hard.id}`);
    await api.call('POST', `/api/contacts/${gone.id}/expunge`, { notify: false });
    await api.call('POST', `/api/contacts/${gone.id}/archive`).catch(() => {});

    received = [];
    expect(await deliverDueWebhooks(h.ctx)).toBe(4);
    const events = received.map((r) => JSON.parse(r.body));
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['contact.deleted', { contactId: soft.id, mode: 'soft' }],
      ['contact.restored', { contactId: soft.id }],
      ['contact.deleted', { contactId: hard.id, mode: 'hard' }],
      ['contact.expunged', { contactId: gone.id }],
    ]);
    for (const r of received) {
      const event = JSON.parse(r.body);
      expect(Object.keys(event).sort()).toEqual(['data', 'id', 'institutionId', 'occurredAt', 'type']);
      expect(r.body).not.toMatch(/@example\.org|Soft|Hard|Punged/);
      expect(r.headers['x-lethe-event']).toBe(event.type);
      expect(r.headers['content-type']).toBe('application/json');
      expect(verifySignature(secret, r.headers['x-lethe-signature'] as string, r.body, Math.floor(h.clock.now().getTime() / 1000))).toEqual({ ok: true });
    }
    expect(await deliverDueWebhooks(h.ctx)).toBe(0);

    const log = await api.get(`/api/webhooks/${subscriptionId}/deliveries`);
    expect(log.items).toHaveLength(4);
    expect(log.items.every((d: { status: string; attempts: number; lastStatusCode: number }) => d.status === 'delivered' && d.attempts === 1 && d.lastStatusCode === 204)).toBe(true);
    const [audit] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'webhook.create', limit: 1 });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('retries a failing endpoint with exponential backoff, then gives up and says so in the log', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const { id, secret } = (await api.call('POST', '/api/webhooks', { url, events: ['contact.deleted'] })).json();
    const c = await api.createContact({ firstName: 'Retry', lastName: 'Me' });
    await api.call('DELETE', `/api/contacts/${c.id}`);

    received = [];
    failNext = 2;
    expect(await deliverDueWebhooks(h.ctx)).toBe(1);
    let [d] = (await api.get(`/api/webhooks/${id}/deliveries`)).items;
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503, lastError: 'answered HTTP 503', nextAttemptAt: new Date(h.clock.now().getTime() + 30_000).toISOString() });
    expect(await deliverDueWebhooks(h.ctx)).toBe(0); // not due yet
    h.clock.advance(30_000);
    expect(await deliverDueWebhooks(h.ctx)).toBe(1);
    [d] = (await api.get(`/api/webhooks/${id}/deliveries`)).items;
    expect(d).toMatchObject({ status: 'pending', attempts: 2, nextAttemptAt: new Date(h.clock.now().getTime() + 60_000).toISOString() });
    h.clock.advance(60_000);
    expect(await deliverDueWebhooks(h.ctx)).toBe(1);
    [d] = (await api.get(`/api/webhooks/${id}/deliveries`)).items;
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 204, lastError: null });
    // The same event id on every attempt, so the receiver can de-duplicate.
    expect(new Set(received.map((r) => r.headers['x-lethe-event-id'])).size).toBe(1);
    expect(received.every((r) => verifySignature(secret, r.headers['x-lethe-signature'] as string, r.body, Math.floor(h.clock.now().getTime() / 1000), 3600).ok)).toBe(true);

    // An endpoint that never answers well: failed for good after the last attempt.
    const down = (await api.call('POST', '/api/webhooks', { url: 'http://127.0.0.1:9/closed', events: ['contact.deleted'] })).json();
    const c2 = await api.createContact({ firstName: 'Never', lastName: 'Delivered' });
    await api.call('DELETE', `/api/contacts/${c2.id}`);
    failNext = 1000;
    for (let i = 0; i < MAX_DELIVERY_ATTEMPTS; i++) {
      await deliverDueWebhooks(h.ctx);
      h.clock.advance(7 * 3_600_000);
    }
    failNext = 0;
    const [failed] = (await api.get(`/api/webhooks/${down.id}/deliveries`)).items;
    expect(failed).toMatchObject({ status: 'failed', attempts: MAX_DELIVERY_ATTEMPTS, nextAttemptAt: null });
    expect(failed.lastError).toBeTruthy();
    expect(await deliverDueWebhooks(h.ctx)).toBe(0);
  });

  it('pauses, pings, validates input and keeps subscriptions per institution', async () => {
    const t = await h.tenant();
    const other = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const bad = await api.call('POST', '/api/webhooks', { url: 'ftp://example.org/x', events: ['contact.sold'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['events.0', 'url']);
    expect(await h.count('webhook_subscriptions')).toBeGreaterThanOrEqual(0);

    const sub = (await api.call('POST', '/api/webhooks', { url, events: ['contact.expunged'] })).json();
    expect((await h.request(other.admin.token, { method: 'GET', url: `/api/webhooks/${sub.id}` })).statusCode).toBe(404);
    expect((await h.request(other.admin.token, { method: 'DELETE', url: `/api/webhooks/${sub.id}` })).statusCode).toBe(404);
    expect((await h.request(other.admin.token, { method: 'GET', url: '/api/webhooks' })).json().items).toEqual([]);
    const staff = await h.user(t, 'staff');
    expect((await h.request(staff.token, { method: 'GET', url: '/api/webhooks' })).statusCode).toBe(403);

    expect((await api.call('PATCH', `/api/webhooks/${sub.id}`, { active: false })).json()).toMatchObject({ active: false });
    const c = await api.createContact({ firstName: 'Paused', lastName: 'Hook' });
    await api.call('POST', `/api/contacts/${c.id}/expunge`, { notify: false });
    expect((await api.call('POST', `/api/webhooks/${sub.id}/ping`)).statusCode).toBe(202);
    received = [];
    expect(await deliverDueWebhooks(h.ctx)).toBe(0); // paused: nothing leaves…
    await api.call('PATCH', `/api/webhooks/${sub.id}`, { active: true });
    expect(await deliverDueWebhooks(h.ctx)).toBe(2); // …and nothing is lost
    expect(received.map((r) => JSON.parse(r.body).type)).toEqual(['contact.expunged', 'ping']);
    expect((await api.call('DELETE', `/api/webhooks/${sub.id}`)).statusCode).toBe(204);
    expect((await api.call('GET', `/api/webhooks/${sub.id}/deliveries`)).statusCode).toBe(404);
  });
});
