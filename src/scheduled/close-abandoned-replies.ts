import { createDb } from '../db/client';
import { closeAbandonedReplies, findStaleStreamingReplies } from '../db/queries/messages';
import type { Env } from '../env';
import { type LogScope, log } from '../log';
import { sessionObject } from '../services/session-object';

/**
 * A reply's session object closes it itself if it dies mid-turn (its alarm); this sweep is the
 * backstop for an object that could not (say, the database was down when its alarm ran). A reply
 * still STREAMING after this long is checked with its object, which is not asked again while it
 * is still generating it.
 */
const STALE_SECONDS = 120;
/** Replies checked per run: each costs one call to its session object. */
const LIMIT = 200;

/**
 * Replies left STREAMING by a generator that died (evicted object, deploy) become INCOMPLETE with
 * the text they had, so readers and the next turn's context see them for what they are.
 */
export async function closeAbandonedRepliesJob(
  controller: ScheduledController,
  env: Env,
  scope: LogScope,
): Promise<void> {
  const started = Date.now();
  const db = createDb(env);
  const stale = await findStaleStreamingReplies(db, STALE_SECONDS, LIMIT);
  const checks = await Promise.allSettled(
    stale.map((r) => sessionObject(env, r.organizationId, r.chatSessionId).isGenerating(r.organizationId, r.id)),
  );
  const dead = stale.filter((_, i) => {
    const check = checks[i];
    return check?.status === 'fulfilled' && check.value === false;
  });
  const closed = await closeAbandonedReplies(
    db,
    dead.map((r) => r.id),
  );
  const summary = { job: 'close-abandoned-replies', cron: controller.cron, closed, durationMs: Date.now() - started };
  log('info', scope, 'cron.job_done', summary);
}
