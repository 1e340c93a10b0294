import { z } from 'zod';
import { assertModelConfigured } from '../../ai/model';
import { AppError, type AppErrorCode } from '../../errors';
import { id } from '../../inputs/common';
import { chooseReplyVersion, regenerateReply, replyVersions, startRegenerateStream } from '../../services/regenerate';
import { authedProcedure } from '../init';
import { streamedTurn } from './chat-stream';

/**
 * Regenerating a reply (issue 16): a new reply to the session's last user message, streamed like a
 * send; earlier replies stay as versions, one of them in use (the one the history holds).
 */
export const regenerateProcedures = {
  /** A new reply to the message (`messageId`: the user message or its reply), answered when stored. */
  regenerate: authedProcedure.input(z.object({ messageId: id })).mutation(async ({ ctx, input }) => {
    assertModelConfigured(ctx.config.model);
    const { message, reply } = await regenerateReply(ctx, input.messageId);
    if (reply.status === 'INCOMPLETE') {
      // The same answer as sendMessage's for a reply that could not be generated.
      const recorded = reply.metadata.error as { code?: AppErrorCode; message?: string } | undefined;
      const code = recorded?.code === 'MODEL_TIMEOUT' ? 'MODEL_TIMEOUT' : 'MODEL_ERROR';
      const text = recorded?.message ?? 'The reply could not be generated.';
      throw new AppError(code, `${text} The partial reply ${reply.id} to ${message.id} is marked INCOMPLETE.`);
    }
    return reply;
  }),

  /** chat.regenerate, streamed over SSE with streamMessage's events (the message, deltas, the reply). */
  streamRegenerate: authedProcedure
    .input(z.object({ messageId: id, lastEventId: z.string().max(200).nullish() }))
    .subscription(({ ctx, input }) =>
      // Reconnecting resumes the reply being generated; it does not regenerate again.
      streamedTurn(ctx, input.lastEventId, async () => {
        assertModelConfigured(ctx.config.model);
        return startRegenerateStream(ctx, input.messageId);
      }),
    ),

  /** The versions of the reply to a message, oldest first, and which one is in use. */
  listReplyVersions: authedProcedure
    .input(z.object({ messageId: id }))
    .query(({ ctx, input }) => replyVersions(ctx, input.messageId)),

  /** Puts one version of a reply in use (the others out of use): later turns' history holds it. */
  selectReplyVersion: authedProcedure
    .input(z.object({ replyId: id }))
    .mutation(({ ctx, input }) => chooseReplyVersion(ctx, input.replyId)),
};
