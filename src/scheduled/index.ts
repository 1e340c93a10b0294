import type { Env } from '../env';
import { backgroundRequestId, type LogScope } from '../log';
import { archiveIdleSessionsJob } from './archive-idle-sessions';
import { closeAbandonedRepliesJob } from './close-abandoned-replies';
import { dispatchWebhooksJob } from './dispatch-webhooks';
import { purgeIdempotencyKeysJob } from './purge-idempotency-keys';

/** A job of a cron run; `scope` gives its log lines the run's id (one per invocation, shared by its jobs). */
export type ScheduledJob = (controller: ScheduledController, env: Env, scope: LogScope) => Promise<void>;

/** Every 15 minutes: idle-session archival, closing replies whose generator died, expired idempotency keys. */
export const EVERY_15_MINUTES = '*/15 * * * *';
/** Every minute: webhook events and deliveries that missed their direct hand-over to the queue. */
export const EVERY_MINUTE = '* * * * *';

/**
 * Cron expression → the jobs it runs. Each key must appear verbatim in wrangler.toml's
 * `[triggers] crons`, which is where Cloudflare learns the schedule.
 */
export const jobsByCron: Record<string, ScheduledJob[]> = {
  [EVERY_15_MINUTES]: [archiveIdleSessionsJob, closeAbandonedRepliesJob, purgeIdempotencyKeysJob],
  [EVERY_MINUTE]: [dispatchWebhooksJob],
};

/**
 * The Worker's `scheduled` handler. Jobs of one cron run side by side, and one failing does not
 * stop the others; the invocation still fails afterwards so Cloudflare records it.
 */
export const scheduled: ExportedHandlerScheduledHandler<Env> = async (controller, env) => {
  const jobs = jobsByCron[controller.cron];
  // wrangler.toml and this table disagree: fail loudly rather than silently skip work.
  if (!jobs) throw new Error(`No scheduled job for cron "${controller.cron}".`);
  const scope = { requestId: backgroundRequestId('cron'), env };
  const results = await Promise.allSettled(jobs.map((job) => job(controller, env, scope)));
  for (const result of results) if (result.status === 'rejected') throw result.reason;
};
