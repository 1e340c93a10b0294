import { createDb } from '../db/client';
import type { Env } from '../env';
import { backgroundRequestId, log } from '../log';
import { drainOutbox, sweepLostDeliveries } from '../webhooks/dispatch';

/**
 * Every minute: moves outbox events a request could not hand over itself (its waitUntil was cut,
 * the queue refused) onto the delivery queue, and sends again deliveries lost in flight.
 */
export async function dispatchWebhooksJob(controller: ScheduledController, env: Env): Promise<void> {
  const queue = env.WEBHOOK_QUEUE;
  if (!queue) return;
  const started = Date.now();
  const db = createDb(env);
  const dispatched = await drainOutbox(db, queue);
  const resent = await sweepLostDeliveries(db, queue);
  log('info', { requestId: backgroundRequestId('cron'), env: env as unknown as Record<string, unknown> }, 'job', {
    job: 'dispatch-webhooks',
    cron: controller.cron,
    dispatched,
    resent,
    durationMs: Date.now() - started,
  });
}
