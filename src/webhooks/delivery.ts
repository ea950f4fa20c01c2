import type { AppContext } from '../context.ts';
import { secretOf } from './subscriptions.ts';
import { MAX_DELIVERY_ATTEMPTS, retryDelayMs, SIGNATURE_HEADER, signPayload } from './signature.ts';

const LEASE_MS = 60_000;
const TIMEOUT_MS = 10_000;

/**
 * Posts due webhook deliveries (a worker tick). Each is leased before the request so two workers
 * never send the same one; a 2xx answer delivers it, anything else is retried with backoff until
 * MAX_DELIVERY_ATTEMPTS, and every attempt's outcome stays in the delivery log. Deliveries of a
 * paused subscription wait.
 */
export async function deliverDueWebhooks(ctx: AppContext, limit = 50): Promise<number> {
  let done = 0;
  for (let i = 0; i < limit; i++) {
    const now = ctx.clock.now();
    const nowIso = now.toISOString();
    const claimed = await ctx.db.transaction().execute(async (trx) => {
      let pick = trx
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
        .select(['d.id', 'd.attempts', 'd.payload', 'd.event_type', 'd.event_id', 's.id as subscription_id', 's.url', 's.secret_sealed'])
        .where('s.active', '=', 1)
        .where((eb) =>
          eb.or([
            eb.and([eb('d.status', '=', 'pending'), eb('d.next_attempt_at', '<=', nowIso)]),
            eb.and([eb('d.status', '=', 'delivering'), eb('d.lease_expires_at', '<', nowIso)]),
          ]),
        )
        .orderBy('d.next_attempt_at')
        .limit(1);
      if (ctx.store.kind === 'postgres') pick = pick.forUpdate('d').skipLocked();
      const row = await pick.executeTakeFirst();
      if (!row) return null;
      await trx
        .updateTable('webhook_deliveries')
        .set({ status: 'delivering', attempts: row.attempts + 1, lease_expires_at: new Date(now.getTime() + LEASE_MS).toISOString() })
        .where('id', '=', row.id)
        .execute();
      return row;
    });
    if (!claimed) break;
    done++;
    const attempts = claimed.attempts + 1;
    const signature = signPayload(secretOf(ctx.secrets.masterKey, { id: claimed.subscription_id, secret_sealed: claimed.secret_sealed }), claimed.payload, Math.floor(now.getTime() / 1000));
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(claimed.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Lethe-Webhooks/1',
          'x-lethe-event': claimed.event_type,
          'x-lethe-event-id': claimed.event_id,
          'x-lethe-delivery': claimed.id,
          [SIGNATURE_HEADER]: signature,
        },
        body: claimed.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = res.status;
      // The body is not kept: a receiver may echo anything back.
      await res.body?.cancel().catch(() => {});
      if (status < 200 || status > 299) error = `answered HTTP ${status}`;
    } catch (e) {
      error = ((e as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : (e as Error).message || 'request failed').slice(0, 300);
    }
    const at = ctx.clock.now();
    if (error === null) {
      await ctx.db
        .updateTable('webhook_deliveries')
        .set({ status: 'delivered', delivered_at: at.toISOString(), last_status_code: status, last_error: null, lease_expires_at: null })
        .where('id', '=', claimed.id)
        .execute();
      continue;
    }
    const final = attempts >= MAX_DELIVERY_ATTEMPTS;
    ctx.log.warn({ deliveryId: claimed.id, event: claimed.event_type, attempts, final, status }, 'webhook delivery failed');
    await ctx.db
      .updateTable('webhook_deliveries')
      .set({
        status: final ? 'failed' : 'pending',
        last_status_code: status,
        last_error: error,
        lease_expires_at: null,
        next_attempt_at: new Date(at.getTime() + retryDelayMs(attempts)).toISOString(),
      })
      .where('id', '=', claimed.id)
      .execute();
  }
  return done;
}
