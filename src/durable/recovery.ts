import { createDb } from '../db/client';
import { closeOrphanedReply } from '../db/queries/messages';
import type { Env } from '../env';
import { log } from '../log';

/**
 * A session object's insurance against dying mid-turn: the text of the reply being generated is
 * saved to the object's own storage (not Postgres) every SAVE_INTERVAL_MS, and an alarm closes a
 * reply the object did not live to store: INCOMPLETE, with the text it had saved.
 */

/** A reply being generated, as the object's storage keeps it in case the object dies mid-turn. */
export type SavedTurn = {
  organizationId: string;
  replyId: string;
  text: string;
  startedAt: number;
  /** The request that started the turn, for the recovery's log lines. */
  requestId?: string;
};

/** How often the text of a reply being generated is saved to the object's storage (not Postgres). */
export const SAVE_INTERVAL_MS = 1_000;
/** The alarm that closes a turn whose object died; re-armed while the turn is alive. */
export const RECOVERY_ALARM_MS = 30_000;
const TURN_KEY = 'turn';

export function saveTurn(storage: DurableObjectStorage, saved: SavedTurn): void {
  void storage.put(TURN_KEY, saved);
}

/** The reply was stored (or never started): nothing is left for the alarm to close. */
export async function clearSavedTurn(storage: DurableObjectStorage): Promise<void> {
  await storage.delete(TURN_KEY);
  await storage.deleteAlarm();
}

export function armRecovery(storage: DurableObjectStorage, inMs = RECOVERY_ALARM_MS): Promise<void> {
  return storage.setAlarm(Date.now() + inMs);
}

/**
 * Closes a turn saved by an instance that died: INCOMPLETE, with the text it had saved. Nothing is
 * done while `generating()`: the saved turn is then this instance's own.
 */
export async function closeSavedTurn(storage: DurableObjectStorage, env: Env, generating: () => boolean) {
  const saved = await storage.get<SavedTurn>(TURN_KEY);
  if (!saved || generating()) return;
  try {
    await closeOrphanedReply(createDb(env), saved.organizationId, saved.replyId, saved.text);
    await storage.delete(TURN_KEY);
  } catch (error) {
    // The database is out of reach: the alarm tries again; the cron sweeper is the backstop.
    const scope = { requestId: saved.requestId ?? 'recovery', env };
    log('warn', scope, 'orphaned_reply_not_closed', { replyId: saved.replyId }, error);
    await armRecovery(storage);
  }
}
