import { createDb } from '../db/client';
import { closeAbandonedReplies } from '../db/queries/messages';
import type { Env } from '../env';

/** A reply saves progress every second while generated; two minutes of silence means its isolate died. */
const STALE_SECONDS = 120;
const LIMIT = 1_000;

/**
 * Replies left STREAMING by a generator that died (evicted isolate, deploy) become INCOMPLETE with
 * the text they had, so readers and the next turn's context see them for what they are.
 */
export async function closeAbandonedRepliesJob(controller: ScheduledController, env: Env): Promise<void> {
  const started = Date.now();
  const closed = await closeAbandonedReplies(createDb(env), STALE_SECONDS, LIMIT);
  console.log(
    JSON.stringify({ job: 'close-abandoned-replies', cron: controller.cron, closed, durationMs: Date.now() - started }),
  );
}
