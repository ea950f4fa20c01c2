import type { AppContext } from '../context.ts';
import { secretOf } from '../webhooks/subscriptions.ts';
import { SIGNATURE_HEADER, signPayload } from '../webhooks/signature.ts';
import type { StepRun } from './steps.ts';

const TIMEOUT_MS = 10_000;

/**
 * The webhook step: POSTs a signed event to a subscription's URL, the way erasure webhooks are
 * signed. Ids only. The event id is the enrollment and step, so a receiver can drop the repeat
 * that a crash between the answer and the commit would cause. Anything but 2xx throws (retried).
 */
export async function postWorkflowWebhook(ctx: AppContext, run: StepRun, contactId: string): Promise<void> {
  if (run.step.type !== 'webhook') return;
  const sub = await ctx.db
    .selectFrom('webhook_subscriptions')
    .select(['id', 'url', 'secret_sealed', 'active'])
    .where('institution_id', '=', run.institutionId)
    .where('id', '=', run.step.webhook.subscriptionId)
    .executeTakeFirst();
  if (!sub) throw new Error('the webhook subscription no longer exists');
  if (!sub.active) throw new Error('the webhook subscription is paused');
  const eventId = `${run.enrollmentId}:${run.step.id}`;
  const now = ctx.clock.now();
  const payload = JSON.stringify({
    id: eventId,
    type: 'workflow.step',
    occurredAt: now.toISOString(),
    institutionId: run.institutionId,
    data: { workflowId: run.workflowId, enrollmentId: run.enrollmentId, stepId: run.step.id, contactId },
  });
  let res: Response;
  try {
    res = await fetch(sub.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Lethe-Webhooks/1',
        'x-lethe-event': 'workflow.step',
        'x-lethe-event-id': eventId,
        [SIGNATURE_HEADER]: signPayload(secretOf(ctx.secrets.masterKey, sub), payload, Math.floor(now.getTime() / 1000)),
      },
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new Error((e as Error).name === 'TimeoutError' ? `webhook: no answer within ${TIMEOUT_MS / 1000} s` : `webhook: ${(e as Error).message || 'request failed'}`);
  }
  await res.body?.cancel().catch(() => {});
  if (res.status < 200 || res.status > 299) throw new Error(`webhook answered HTTP ${res.status}`);
}
