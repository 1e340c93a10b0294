import { sha256Hex } from '../auth/keys';
import type { Db } from '../db/client';
import type { IdempotencyClaim, IdempotencyRecord } from '../db/queries/idempotency';
import { getMessage } from '../db/queries/messages';
import { AppError } from '../errors';
import { newId } from '../ids';
import { messageView } from '../views/message';
import type { SendMessageInput, TurnHooks, TurnResult } from './turn-types';

/**
 * Idempotency-Key handling, in one place: reading the header into a claim, telling a retry from
 * a new request, and answering a retry with the original result. The claim is taken in the same
 * statement that does the work (src/db/queries/idempotency.ts), so a key can never be held by a
 * request that did nothing, nor the work done twice.
 */

/** An Idempotency-Key claim for this request: the key, what it is for, and a hash of the payload. */
export async function idempotencyClaim(
  headers: Headers,
  procedure: string,
  payload: unknown,
  resourceId: string,
): Promise<IdempotencyClaim | undefined> {
  const key = headers.get('idempotency-key')?.trim();
  if (key === undefined || key === '') return undefined;
  if (key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new AppError('BAD_REQUEST', 'Idempotency-Key must be 1–255 printable ASCII characters.');
  }
  return {
    key,
    procedure,
    requestHash: await sha256Hex(JSON.stringify(payload)),
    claimId: newId('message'),
    resourceId,
  };
}

/** A send's claim: its attachments count by their hash (the bytes were read and dropped already). */
export function sendMessageClaim(headers: Headers, input: SendMessageInput, resourceId: string) {
  const payload = { ...input, attachments: input.attachments.map((a) => a.sha256) };
  return idempotencyClaim(headers, 'chat.sendMessage', payload, resourceId);
}

export function assertSameRequest(record: { procedure: string; requestHash: string }, claim: IdempotencyClaim): void {
  if (record.procedure !== claim.procedure || record.requestHash !== claim.requestHash) {
    throw new AppError(
      'UNPROCESSABLE',
      'This Idempotency-Key was already used with a different request. Use a new key for a new request.',
    );
  }
}

/**
 * What an earlier request with this key made (its resource id), when the key is held by another
 * attempt than ours; undefined when there is no key or this attempt holds it. The same key with
 * another payload is refused.
 */
export function earlierResult(
  claim: IdempotencyClaim | undefined,
  record: IdempotencyRecord | undefined,
): string | undefined {
  if (!claim || !record || record.claimId === claim.claimId) return undefined;
  assertSameRequest(record, claim);
  return record.resourceId;
}

/**
 * The answer to a send retried with the Idempotency-Key an earlier request holds. Turns of one
 * session run one at a time in its Durable Object, so by the time a retry runs the original has
 * finished; a reply still STREAMING here lost its generator (the object's alarm closes it), so the
 * retry is told to come back rather than waiting on it.
 */
export async function replayTurn(
  db: Db,
  organizationId: string,
  replyOrMessageId: string,
  hooks: TurnHooks,
): Promise<TurnResult> {
  const row = await getMessage(db, organizationId, replyOrMessageId);
  if (!row)
    throw new AppError('CONFLICT', 'The request that used this Idempotency-Key did not complete; use a new key.');
  if (row.role !== 'ASSISTANT' || row.replyToId === null) {
    const message = messageView(row);
    hooks.onStored?.(message, null);
    return { message, reply: null, outcome: null, replayed: true };
  }
  if (row.status === 'STREAMING') {
    throw new AppError('CONFLICT', 'The request with this Idempotency-Key is still in progress; retry later.', {
      retryAfter: 5,
    });
  }
  const user = await getMessage(db, organizationId, row.replyToId);
  if (!user) throw new AppError('CONFLICT', 'The original message of this Idempotency-Key was deleted.');
  const reply = messageView(row);
  hooks.onStored?.(messageView(user), reply.id);
  if (reply.content) hooks.onDelta?.(reply.content);
  return { message: messageView(user), reply, outcome: null, replayed: true };
}
