import { createDb, type Db } from '../db/client';
import { abandonDelivery, loadDelivery, recordAttempt } from '../db/queries/webhook-deliveries';
import type { Env } from '../env';
import { backgroundRequestId, log } from '../log';
import { type AttemptResult, attemptDelivery } from './attempt';
import { asWebhookJob, type WebhookJob } from './job';
import { DISABLE_AFTER_SECONDS, retryDelay } from './schedule';

/** Name of the delivery queue (wrangler.toml). */
export const WEBHOOK_QUEUE_NAME = 'webhook-deliveries';

export type DeliveryStep =
  | { kind: 'done' }
  | { kind: 'retry'; delaySeconds: number }
  | { kind: 'skipped'; reason: 'gone' | 'not-pending' | 'endpoint-disabled' };

/**
 * One attempt of one delivery: load it, POST it signed, record the outcome. What to tell the queue
 * follows from the recorded row, so a duplicate message (the queue is at-least-once) finds the
 * delivery no longer PENDING and does nothing.
 */
export async function deliverOnce(
  db: Db,
  job: WebhookJob,
  send: (delivery: NonNullable<Awaited<ReturnType<typeof loadDelivery>>>) => Promise<AttemptResult> = attemptDelivery,
): Promise<DeliveryStep> {
  const delivery = await loadDelivery(db, job.organizationId, job.deliveryId);
  if (!delivery) return { kind: 'skipped', reason: 'gone' };
  if (delivery.status !== 'PENDING') return { kind: 'skipped', reason: 'not-pending' };
  if (!delivery.enabled) {
    await abandonDelivery(db, job.organizationId, delivery.id, 'The endpoint is disabled.');
    return { kind: 'skipped', reason: 'endpoint-disabled' };
  }
  const result = await send(delivery);
  const attempts = delivery.attempts + 1;
  const retryInSeconds = result.ok ? null : retryDelay(attempts);
  await recordAttempt(
    db,
    job.organizationId,
    delivery.id,
    result.ok ? result : { ...result, retryInSeconds, disableAfterSeconds: DISABLE_AFTER_SECONDS },
  );
  return retryInSeconds === null ? { kind: 'done' } : { kind: 'retry', delaySeconds: retryInSeconds };
}

/**
 * The delivery queue's consumer. Messages are settled one by one, so one slow or failing receiver
 * does not hold back the others' deliveries. A fault of ours (database down) retries the message
 * shortly; the row still says PENDING, so the sweeper would find it even if the message were lost.
 */
export async function consumeWebhookBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env);
  const scope = { requestId: backgroundRequestId('queue'), env: env as unknown as Record<string, unknown> };
  for (const message of batch.messages) {
    const job = asWebhookJob(message.body);
    if (!job) {
      log('warn', scope, 'webhook.malformed_message', { queue: batch.queue });
      message.ack();
      continue;
    }
    try {
      const step = await deliverOnce(db, job);
      if (step.kind === 'retry') message.retry({ delaySeconds: step.delaySeconds });
      else message.ack();
    } catch (error) {
      log('warn', scope, 'webhook.attempt_error', { deliveryId: job.deliveryId, attempt: message.attempts }, error);
      message.retry({ delaySeconds: 30 });
    }
  }
}
