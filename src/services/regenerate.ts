import type { AuthedContext } from '../context';
import { readRegenerationTarget } from '../db/queries/regenerate';
import { listReplyVersions, selectReplyVersion } from '../db/queries/reply-versions';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { MessageView } from '../views/message';
import { type ReplyVersionsView, replyVersionsView } from '../views/reply-versions';
import { idempotencyClaim } from './idempotency';
import { regenerationRefusal } from './regenerate-turn';
import { forgetSessionHistory, sessionObject, type TurnEvent } from './session-object';
import { turnConfig } from './turn-types';
import { readEvents } from './turn-wire';

/**
 * Regenerates the reply to a message (`messageId`: the USER message or one of its replies): one
 * query finds the message and its session (and answers the refusals early), then the session's
 * object runs the regeneration in its turn queue and streams it like a send.
 */
export async function startRegenerateStream(ctx: AuthedContext, messageId: string): Promise<AsyncGenerator<TurnEvent>> {
  const org = ctx.auth.organizationId;
  const target = await readRegenerationTarget(ctx.db, org, messageId);
  const refusal = regenerationRefusal(target, messageId);
  if (refusal || !target) throw refusal;
  const replyId = newId('message');
  const claim = await idempotencyClaim(ctx.headers, 'chat.regenerate', { messageId: target.message.id }, replyId);
  const chatSessionId = target.message.chatSessionId;
  const stream = await sessionObject(ctx.env, org, chatSessionId).turn({
    organizationId: org,
    requestId: ctx.requestId,
    config: turnConfig(ctx.config),
    turn: { regenerate: { chatSessionId, messageId: target.message.id }, claim, replyId },
  });
  return readEvents(stream);
}

/** A whole regeneration, for the non-streamed chat.regenerate: the message and its new reply. */
export async function regenerateReply(
  ctx: AuthedContext,
  messageId: string,
): Promise<{ message: MessageView; reply: MessageView }> {
  let message: MessageView | undefined;
  let reply: MessageView | undefined;
  for await (const event of await startRegenerateStream(ctx, messageId)) {
    if (event.type === 'message') message = event.message;
    else if (event.type === 'reply') reply = event.message;
  }
  if (!message || !reply) throw new AppError('INTERNAL', 'The regeneration ended without storing a reply.');
  return { message, reply };
}

/** The versions of the reply to a message, oldest first. */
export async function replyVersions(ctx: AuthedContext, messageId: string): Promise<ReplyVersionsView> {
  const rows = await listReplyVersions(ctx.db, ctx.auth.organizationId, messageId);
  const first = rows[0];
  if (!first) throw new AppError('NOT_FOUND', `Message ${messageId} not found.`);
  return replyVersionsView(first.message_id, rows);
}

/** Puts a version of a reply in use; the next turn's history holds it instead of the others. */
export async function chooseReplyVersion(ctx: AuthedContext, replyId: string): Promise<ReplyVersionsView> {
  const rows = await selectReplyVersion(ctx.db, ctx.auth.organizationId, replyId);
  const first = rows[0];
  if (!first) throw new AppError('NOT_FOUND', `Reply ${replyId} not found.`);
  if (first.streaming) {
    throw new AppError('CONFLICT', 'A version of this reply is being generated; stop it (chat.stopReply) or wait.');
  }
  // The object's memory of the last turn holds the version in use before: it must not be sent early.
  await forgetSessionHistory(ctx, first.chat_session_id);
  return replyVersionsView(first.message_id, rows);
}
