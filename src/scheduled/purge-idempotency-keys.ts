import { createDb } from '../db/client';
import { deleteExpiredKeys } from '../db/queries/idempotency';
import type { Env } from '../env';
import { type LogScope, log } from '../log';

/** Idempotency keys are kept 24 h; this deletes expired ones, a bounded number per run. */
export async function purgeIdempotencyKeysJob(
  controller: ScheduledController,
  env: Env,
  scope: LogScope,
): Promise<void> {
  const started = Date.now();
  const deleted = await deleteExpiredKeys(createDb(env), 5_000);
  const summary = { job: 'purge-idempotency-keys', cron: controller.cron, deleted, durationMs: Date.now() - started };
  log('info', scope, 'cron.job_done', summary);
}
