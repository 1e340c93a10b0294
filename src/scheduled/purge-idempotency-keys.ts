import { createDb } from '../db/client';
import { deleteExpiredKeys } from '../db/queries/idempotency';
import type { Env } from '../env';

/** Idempotency keys are kept 24 h; this deletes expired ones, a bounded number per run. */
export async function purgeIdempotencyKeysJob(controller: ScheduledController, env: Env): Promise<void> {
  const started = Date.now();
  const deleted = await deleteExpiredKeys(createDb(env), 5_000);
  console.log(
    JSON.stringify({ job: 'purge-idempotency-keys', cron: controller.cron, deleted, durationMs: Date.now() - started }),
  );
}
