import type { AuthedContext } from '../context';
import { getMessage, markReplyStopped } from '../db/queries/messages';
import type { ChatSession } from '../durable/chat-session';
import type { Env } from '../env';
import { AppError } from '../errors';
import { newId } from '../ids';
import { type MessageView, messageView } from '../views/message';
import { sendMessageClaim } from './idempotency';
import { type SendMessageInput, turnConfig } from './turn-types';
import { readEvents, type TurnEvent } from './turn-wire';

export type { TurnEvent } from './turn-wire';

/** What ChatSession.stop answers (its RPC type cannot express MessageView's open metadata). */
type StopResult = { known: boolean; reply: MessageView | null };

/** The Durable Object that owns a session's turns. The name carries the organization: no tenant can reach another's. */
export function sessionObject(env: Env, organizationId: string, chatSessionId: string): DurableObjectStub<ChatSession> {
  // env.ts does not name the class (the base layer does not import the object): the binding is typed here.
  const namespace = env.CHAT_SESSIONS as DurableObjectNamespace<ChatSession>;
  return namespace.get(namespace.idFromName(`${organizationId}:${chatSessionId}`));
}

/**
 * Hands a turn (its attachments already validated and extracted here) to the session's object and
 * returns its events: the stored user message, deltas, the stored reply. Leaving early only
 * detaches this listener; the object finishes and stores the reply regardless.
 */
export async function startTurnStream(ctx: AuthedContext, input: SendMessageInput): Promise<AsyncGenerator<TurnEvent>> {
  const wantsReply = input.role === 'USER';
  const messageId = newId('message');
  const replyId = wantsReply ? newId('message') : undefined;
  const claim = await sendMessageClaim(ctx.headers, input, replyId ?? messageId);
  const stub = sessionObject(ctx.env, ctx.auth.organizationId, input.chatSessionId);
  const stream = await stub.turn({
    organizationId: ctx.auth.organizationId,
    requestId: ctx.requestId,
    config: turnConfig(ctx.config),
    turn: { input, claim, messageId, replyId },
  });
  return readEvents(stream);
}

/** A whole turn, for the non-streamed sendMessage: the stored message and the stored reply. */
export async function runTurn(
  ctx: AuthedContext,
  input: SendMessageInput,
): Promise<{ message: MessageView; reply: MessageView | null }> {
  let message: MessageView | undefined;
  let reply: MessageView | null = null;
  for await (const event of await startTurnStream(ctx, input)) {
    if (event.type === 'message') message = event.message;
    else if (event.type === 'reply') reply = event.message;
  }
  if (!message) throw new AppError('INTERNAL', 'The turn ended without storing the message.');
  return { message, reply };
}

/** A finished (or orphaned) reply as events, from `fromOffset`. */
function* storedReply(row: Awaited<ReturnType<typeof getMessage>> & {}, fromOffset: number): Generator<TurnEvent> {
  if (row.content.length > fromOffset) {
    yield { type: 'delta', replyId: row.id, offset: fromOffset, text: row.content.slice(fromOffset) };
  }
  const message = messageView(row);
  // STREAMING in Postgres but unknown to its object: the generator died; the alarm is closing it.
  yield { type: 'reply', message: row.status === 'STREAMING' ? { ...message, status: 'INCOMPLETE' } : message };
}

/**
 * Follows a reply from `fromOffset`: attached to its session object's buffer while it is being
 * generated (no database queries while waiting), or read from Postgres once finished. One query
 * finds the reply and its session; nothing is generated again.
 */
export async function* followReply(
  ctx: AuthedContext,
  replyId: string,
  fromOffset: number,
  chatSessionId?: string,
): AsyncGenerator<TurnEvent> {
  const org = ctx.auth.organizationId;
  if (chatSessionId) {
    // The session is known (a resumed streamMessage): try the object first, no query at all.
    const stream = await sessionObject(ctx.env, org, chatSessionId).listen(org, replyId, fromOffset);
    if (stream) {
      yield* readEvents(stream);
      return;
    }
  }
  const row = await getMessage(ctx.db, org, replyId);
  if (row?.role !== 'ASSISTANT') throw new AppError('NOT_FOUND', `Reply ${replyId} not found.`);
  if (row.status === 'STREAMING' && row.chatSessionId !== chatSessionId) {
    const stream = await sessionObject(ctx.env, org, row.chatSessionId).listen(org, replyId, fromOffset);
    if (stream) {
      yield* readEvents(stream);
      return;
    }
  }
  if (row.status === 'STREAMING') {
    // It may have finished between the two looks.
    const again = await getMessage(ctx.db, org, replyId);
    if (again) {
      yield* storedReply(again, fromOffset);
      return;
    }
  }
  yield* storedReply(row, fromOffset);
}

/** The session's reply being generated, followed from the start; null when there is none. */
export async function followCurrentReply(
  ctx: AuthedContext,
  chatSessionId: string,
): Promise<AsyncGenerator<TurnEvent> | null> {
  const org = ctx.auth.organizationId;
  const stream = await sessionObject(ctx.env, org, chatSessionId).listen(org, null, 0);
  return stream ? readEvents(stream) : null;
}

/**
 * Stops a reply: its session object aborts the model at once and stores what was generated as
 * STOPPED. A reply its object does not know (it died) is marked STOPPED in Postgres directly.
 */
export async function stopReply(ctx: AuthedContext, replyId: string): Promise<MessageView> {
  const org = ctx.auth.organizationId;
  const row = await getMessage(ctx.db, org, replyId);
  if (row?.role !== 'ASSISTANT') throw new AppError('NOT_FOUND', `Reply ${replyId} not found.`);
  if (row.status === 'STREAMING') {
    const stopped = (await sessionObject(ctx.env, org, row.chatSessionId).stop(org, replyId)) as unknown as StopResult;
    if (stopped.known && stopped.reply) return stopped.reply;
    if (!stopped.known) {
      const result = await markReplyStopped(ctx.db, org, replyId);
      if (result?.message.status === 'STOPPED') return messageView(result.message);
    }
    const after = await getMessage(ctx.db, org, replyId);
    if (after?.status === 'STOPPED') return messageView(after);
    throw new AppError('CONFLICT', `Reply ${replyId} has already finished (${after?.status ?? 'deleted'}).`);
  }
  if (row.status === 'STOPPED') return messageView(row);
  throw new AppError('CONFLICT', `Reply ${replyId} has already finished (${row.status}).`);
}

/** Stops the session's reply being generated, if any, without a database query; null when none. */
export async function stopCurrentReply(ctx: AuthedContext, chatSessionId: string): Promise<MessageView | null> {
  const org = ctx.auth.organizationId;
  const stopped = (await sessionObject(ctx.env, org, chatSessionId).stop(org, null)) as unknown as StopResult;
  return stopped.reply;
}

/** Tells the session's object its history changed under it (a message was deleted). */
export async function forgetSessionHistory(ctx: AuthedContext, chatSessionId: string): Promise<void> {
  await sessionObject(ctx.env, ctx.auth.organizationId, chatSessionId).forgetHistory();
}
