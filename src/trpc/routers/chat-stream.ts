import { tracked } from '@trpc/server';
import { z } from 'zod';
import { assertModelConfigured } from '../../ai/model';
import { markReplyStopped } from '../../db/queries/messages';
import { AppError } from '../../errors';
import { requestLocalStop } from '../../services/reply-registry';
import { followReply, startTurnStream, type TurnEvent } from '../../services/reply-stream';
import { prepareAttachments } from '../../services/send-message';
import { messageView } from '../../views/message';
import { authedProcedure } from '../init';
import { id } from '../inputs';
import { sendMessageInput } from './send-message-input';

/**
 * Event ids say where a client is in a reply (`<replyId>:<characters received>`), so a client
 * that reconnects with `lastEventId` (httpSubscriptionLink does this by itself) resumes from there
 * instead of sending the message again.
 */
function eventId(event: TurnEvent): string {
  if (event.type === 'message') return `${event.replyId ?? event.message.id}:${event.replyId ? 0 : 'done'}`;
  if (event.type === 'delta') return `${event.replyId}:${event.offset + event.text.length}`;
  return `${event.message.id}:done`;
}

const RESUME_ID = /^(msg_[0-9A-Z]{26}):(\d+|done)$/;

export const chatStreamProcedures = {
  /**
   * sendMessage, streamed over SSE: the stored user message, text deltas as they are generated,
   * then the stored reply. Leaving does not stop generation; the reply is stored regardless.
   */
  streamMessage: authedProcedure
    .input(sendMessageInput.extend({ lastEventId: z.string().max(200).nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const resume = input.lastEventId ? RESUME_ID.exec(input.lastEventId) : null;
      if (input.lastEventId && !resume) throw new AppError('BAD_REQUEST', 'lastEventId is not one this API sent.');
      if (resume) {
        const [, replyId = '', position = 'done'] = resume;
        if (position === 'done') return;
        for await (const event of followReply(ctx, replyId, Number(position), signal))
          yield tracked(eventId(event), event);
        return;
      }
      const { lastEventId: _ignored, ...message } = input;
      if (message.role === 'USER') assertModelConfigured(ctx.env);
      const attachments = await prepareAttachments(ctx, message.chatSessionId, message.attachments);
      for await (const event of startTurnStream(ctx, { ...message, attachments })) {
        yield tracked(eventId(event), event);
      }
    }),

  /** Re-attach to a reply (still generating, or finished) from a character offset. */
  resumeReply: authedProcedure
    .input(
      z.object({
        messageId: id,
        offset: z.number().int().min(0).max(10_000_000).default(0),
        lastEventId: z.string().max(200).nullish(),
      }),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      const resume = input.lastEventId ? RESUME_ID.exec(input.lastEventId) : null;
      if (resume?.[2] === 'done') return;
      const from = resume ? Number(resume[2]) : input.offset;
      for await (const event of followReply(ctx, input.messageId, from, signal)) yield tracked(eventId(event), event);
    }),

  /** Stops a reply being generated; what was generated so far is kept, marked STOPPED. */
  stopReply: authedProcedure.input(z.object({ messageId: id })).mutation(async ({ ctx, input }) => {
    const result = await markReplyStopped(ctx.db, ctx.auth.organizationId, input.messageId);
    if (result?.message.role !== 'ASSISTANT') {
      throw new AppError('NOT_FOUND', `Reply ${input.messageId} not found.`);
    }
    if (result.changed) requestLocalStop(input.messageId);
    else if (result.message.status !== 'STOPPED') {
      throw new AppError('CONFLICT', `Reply ${input.messageId} has already finished (${result.message.status}).`);
    }
    return messageView(result.message);
  }),
};
