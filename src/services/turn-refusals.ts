import type { TurnSession } from '../db/queries/turns';
import { AppError } from '../errors';

/** Why a session or an organization cannot take a message now: the answers a refused send gets. */

/** Why a session cannot take a message now, if it cannot. */
export function sessionRefusal(session: { status: string; personaDeleted: boolean }): AppError | undefined {
  if (session.personaDeleted) {
    return new AppError('CONFLICT', 'This session’s persona has been deleted; the session is read-only.');
  }
  if (session.status === 'ARCHIVED') {
    return new AppError(
      'CONFLICT',
      'This chat session is archived. Reactivate it with chat.updateSession {"status":"ACTIVE"} before sending.',
    );
  }
  return undefined;
}

/** Seconds until the next UTC midnight, when daily model-call counts start again. */
export function secondsUntilUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((midnight - now.getTime()) / 1000);
}

/** The organization has used its model calls for today (UTC). */
export function dailyCapReached(cap: number): AppError {
  return new AppError(
    'RATE_LIMITED',
    `This organization has used its ${cap} model calls for today (UTC); the count resets at midnight UTC.`,
    { retryAfter: secondsUntilUtcMidnight() },
  );
}

/** Why the turn's statement stored nothing, from the session it read in the same round trip. */
export function notStored(session: TurnSession, wantsReply: boolean): AppError {
  const refusal = sessionRefusal(session);
  if (refusal) return refusal;
  if (wantsReply && session.modelCallsToday >= session.dailyModelCallCap) {
    return dailyCapReached(session.dailyModelCallCap);
  }
  return new AppError('CONFLICT', 'The message could not be stored; please retry.');
}
