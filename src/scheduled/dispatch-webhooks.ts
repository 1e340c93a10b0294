import { createDb } from '../db/client';
import type { Env } from '../env';
import { type LogScope, log } from '../log';
import { drainOutbox, sweepLostDeliveries } from '../webhooks/dispatch';

/**
 * Every minute: moves outbox events a request could not hand over itself (its waitUntil was cut,
 * the queue refused) onto the delivery queue, and sends again deliveries lost in flight.
 */
export async function dispatchWebhooksJob(controller: ScheduledController, env: Env, scope: LogScope): Promise<void> {
  const queue = env.WEBHOOK_QUEUE;
  if (!queue) return;
  const started = Date.now();
  const db = createDb(env);
  const dispatched = await drainOutbox(db, queue);
  const resent = await sweepLostDeliveries(db, queue);
  const summary = {
    job: 'dispatch-webhooks',
    cron: controller.cron,
    dispatched,
    resent,
    durationMs: Date.now() - started,
  };
  log('info', scope, 'cron.job_done', summary);
}
