import { tracked } from '@trpc/server';
import { z } from 'zod';
import { assertModelConfigured } from '../../ai/model';
import type { AuthedContext } from '../../context';
import { AppError } from '../../errors';
import { id } from '../../inputs/common';
import { prepareAttachments } from '../../services/send-message';
import { sendMessageInput } from '../../services/send-message-input';
import { followReply, startTurnStream, stopReply, type TurnEvent } from '../../services/session-object';
import { authedProcedure } from '../init';

/**
 * Event ids say where a client is in a reply (`<replyId>:<characters received>`), so a client
 * that reconnects with `lastEventId` (httpSubscriptionLink does this by itself) resumes from there
 * instead of sending the message again.
 */
export function eventId(event: TurnEvent): string {
  if (event.type === 'message') return `${event.replyId ?? event.message.id}:${event.replyId ? 0 : 'done'}`;
  if (event.type === 'delta') return `${event.replyId}:${event.offset + event.text.length}`;
  return `${event.message.id}:done`;
}

export const RESUME_ID = /^(msg_[0-9A-Z]{26}):(\d+|done)$/;

/**
 * A turn as a tracked SSE stream, for every streamed procedure (send, regenerate, edit): a
 * `lastEventId` this API sent resumes the reply it names and never starts the turn again; otherwise
 * `start` begins the turn. `chatSessionId`, when known, finds the reply's session without a query.
 */
export async function* streamedTurn(
  ctx: AuthedContext,
  lastEventId: string | null | undefined,
  start: () => Promise<AsyncIterable<TurnEvent>>,
  chatSessionId?: string,
) {
  const resume = lastEventId ? RESUME_ID.exec(lastEventId) : null;
  if (lastEventId && !resume) throw new AppError('BAD_REQUEST', 'lastEventId is not one this API sent.');
  const events = resume
    ? resume[2] === 'done'
      ? []
      : followReply(ctx, resume[1] ?? '', Number(resume[2]), chatSessionId)
    : await start();
  for await (const event of events) yield tracked(eventId(event), event);
}

export const chatStreamProcedures = {
  /**
   * sendMessage, streamed over SSE: the stored user message, text deltas as they are generated,
   * then the stored reply. Leaving does not stop generation; the reply is stored regardless.
   */
  streamMessage: authedProcedure
    .input(sendMessageInput.extend({ lastEventId: z.string().max(200).nullish() }))
    .subscription(({ ctx, input }) => {
      const { lastEventId, ...message } = input;
      const start = async () => {
        if (message.role === 'USER') assertModelConfigured(ctx.config.model);
        const attachments = await prepareAttachments(ctx, message.chatSessionId, message.attachments);
        return startTurnStream(ctx, { ...message, attachments });
      };
      return streamedTurn(ctx, lastEventId, start, message.chatSessionId);
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
    .subscription(async function* ({ ctx, input }) {
      const resume = input.lastEventId ? RESUME_ID.exec(input.lastEventId) : null;
      if (resume?.[2] === 'done') return;
      const from = resume ? Number(resume[2]) : input.offset;
      for await (const event of followReply(ctx, input.messageId, from)) yield tracked(eventId(event), event);
    }),

  /**
   * Stops a reply being generated, from any connection: its session object aborts the model at
   * once and stores what was generated so far, marked STOPPED.
   */
  stopReply: authedProcedure
    .input(z.object({ messageId: id }))
    .mutation(async ({ ctx, input }) => stopReply(ctx, input.messageId)),
};
