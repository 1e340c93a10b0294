import { z } from 'zod';
import { assertModelConfigured } from '../../ai/model';
import { AppError, type AppErrorCode } from '../../errors';
import { id, text } from '../../inputs/common';
import { branches, chooseBranch, editMessage, startEditStream } from '../../services/branches';
import { authedProcedure } from '../init';
import { streamedTurn } from './chat-stream';

const editInput = z.object({
  messageId: id,
  content: text(100_000).pipe(z.string().trim().min(1, 'must not be empty')),
});

/**
 * Editing a message and branches (issue 16): an edit takes a user message's place on a new
 * branch and is answered like a send; the old branch is kept and can be switched back to.
 */
export const branchProcedures = {
  /** Edits a user message: a new branch from it, answered with the edit's reply once stored. */
  editMessage: authedProcedure.input(editInput).mutation(async ({ ctx, input }) => {
    assertModelConfigured(ctx.config.model);
    const { message, reply } = await editMessage(ctx, input.messageId, input.content);
    if (reply.status === 'INCOMPLETE') {
      // The same answer as sendMessage's for a reply that could not be generated.
      const recorded = reply.metadata.error as { code?: AppErrorCode; message?: string } | undefined;
      const code = recorded?.code === 'MODEL_TIMEOUT' ? 'MODEL_TIMEOUT' : 'MODEL_ERROR';
      const why = recorded?.message ?? 'The reply could not be generated.';
      throw new AppError(
        code,
        `${why} The edit was saved (${message.id}); the partial reply ${reply.id} is marked INCOMPLETE.`,
      );
    }
    return reply;
  }),

  /** chat.editMessage, streamed over SSE with streamMessage's events (the edit, deltas, the reply). */
  streamEditMessage: authedProcedure
    .input(editInput.extend({ lastEventId: z.string().max(200).nullish() }))
    .subscription(({ ctx, input }) =>
      // Reconnecting resumes the reply being generated; it does not edit again.
      streamedTurn(ctx, input.lastEventId, async () => {
        assertModelConfigured(ctx.config.model);
        return startEditStream(ctx, input.messageId, input.content);
      }),
    ),

  /** The alternatives at each fork (edited user message) of the active branch. */
  listBranches: authedProcedure
    .input(z.object({ chatSessionId: id }))
    .query(({ ctx, input }) => branches(ctx, input.chatSessionId)),

  /** Makes a branch the active one: getSession, the history and search then show it. */
  switchBranch: authedProcedure
    .input(z.object({ chatSessionId: id, branchId: id }))
    .mutation(({ ctx, input }) => chooseBranch(ctx, input.chatSessionId, input.branchId)),
};
