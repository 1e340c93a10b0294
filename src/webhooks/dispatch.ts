import type { Db } from '../db/client';
import { claimOutbox, type DeliveryRef, sweepStaleDeliveries } from '../db/queries/webhook-outbox';
import type { WebhookJob } from './job';
import { STALE_AFTER_SECONDS } from './schedule';

/** Events taken per drain statement; a drain repeats until the outbox is empty or `rounds` ran. */
const DRAIN_BATCH = 100;

async function enqueue(queue: Queue<WebhookJob>, deliveries: DeliveryRef[]): Promise<void> {
  // sendBatch takes at most 100 messages.
  for (let i = 0; i < deliveries.length; i += 100) {
    await queue.sendBatch(
      deliveries.slice(i, i + 100).map((d) => ({ body: { organizationId: d.organizationId, deliveryId: d.id } })),
    );
  }
}

/**
 * Moves committed events from the outbox onto the delivery queue. Called right after a change (in
 * waitUntil) and every minute by cron; concurrent drains take disjoint events. A failed send leaves
 * PENDING deliveries that `sweepLostDeliveries` sends again.
 */
export async function drainOutbox(db: Db, queue: Queue<WebhookJob>, rounds = 10): Promise<number> {
  let sent = 0;
  for (let round = 0; round < rounds; round++) {
    const { events, deliveries } = await claimOutbox(db, DRAIN_BATCH);
    await enqueue(queue, deliveries);
    sent += deliveries.length;
    if (events < DRAIN_BATCH) break;
  }
  return sent;
}

/** Sends again the deliveries lost in flight (see STALE_AFTER_SECONDS). */
export async function sweepLostDeliveries(db: Db, queue: Queue<WebhookJob>): Promise<number> {
  const deliveries = await sweepStaleDeliveries(db, {
    limit: 500,
    staleSeconds: STALE_AFTER_SECONDS,
    leaseSeconds: STALE_AFTER_SECONDS,
  });
  await enqueue(queue, deliveries);
  return deliveries.length;
}
