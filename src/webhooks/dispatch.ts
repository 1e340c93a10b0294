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
export async function drainOutbox(
  db: Db,
  queue: Queue<WebhookJob>,
  options: { rounds?: number; organizationId?: string } = {},
): Promise<number> {
  const rounds = options.rounds ?? 10;
  let sent = 0;
  for (let round = 0; round < rounds; round++) {
    const { events, deliveries } = await claimOutbox(db, DRAIN_BATCH, options.organizationId);
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

/**
 * Right after a change that wrote events: drain them to the queue in the background, so receivers
 * hear within seconds rather than at the next minute's sweep (which remains the fallback).
 */
export function kickOutbox(scope: {
  db: Db;
  organizationId: string;
  env: { WEBHOOK_QUEUE?: Queue<WebhookJob> };
  waitUntil: (promise: Promise<unknown>) => void;
}): void {
  const queue = scope.env.WEBHOOK_QUEUE;
  if (!queue) return;
  // A failure here only delays delivery to the cron sweep; nothing is lost, so it is not an error.
  scope.waitUntil(
    drainOutbox(scope.db, queue, { rounds: 1, organizationId: scope.organizationId }).catch(() => undefined),
  );
}
