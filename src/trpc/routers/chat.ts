import { z } from 'zod';
import { assertModelConfigured } from '../../ai/model';
import { deleteMessageWithReplies, listMessages } from '../../db/queries/messages';
import {
  deleteSession,
  getSessionSummary,
  getSessionWithMessages,
  insertSession,
  listSessions,
  updateSession,
} from '../../db/queries/sessions';
import { platforms, sessionStatuses } from '../../db/schema';
import { AppError, type AppErrorCode } from '../../errors';
import { newId } from '../../ids';
import { cursor, id, limit, text } from '../../inputs/common';
import { earlierResult, idempotencyClaim } from '../../services/idempotency';
import { prepareAttachments } from '../../services/send-message';
import { sendMessageInput } from '../../services/send-message-input';
import { forgetSessionHistory, runTurn } from '../../services/session-object';
import { messageView } from '../../views/message';
import { sessionView } from '../../views/session';
import { kickOutbox } from '../../webhooks/dispatch';
import { authedProcedure, router } from '../init';
import { chatStreamProcedures } from './chat-stream';
import { regenerateProcedures } from './regenerate';

const notFound = (sessionId: string) => new AppError('NOT_FOUND', `Chat session ${sessionId} not found.`);
const title = text(200).pipe(z.string().trim());
/** Your end user's id: opaque to us, any text. */
const endUserId = text(200).pipe(z.string().trim().min(1, 'must not be empty'));

export const chatRouter = router({
  createSession: authedProcedure
    .input(
      z.object({
        personaId: id,
        title: title.optional(),
        platform: z.enum(platforms).default('WEB'),
        userId: endUserId.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const sessionId = newId('session');
      const claim = await idempotencyClaim(ctx.headers, 'chat.createSession', input, sessionId);
      const created = await insertSession(ctx.db, ctx.auth.organizationId, {
        id: sessionId,
        personaId: input.personaId,
        title: input.title ?? null,
        platform: input.platform,
        userId: input.userId ?? null,
        greetingMessageId: newId('message'),
        idempotency: claim,
      });
      if (created.webhookEvents > 0) kickOutbox({ ...ctx, organizationId: ctx.auth.organizationId });
      if (created.session) return sessionView(created.session);
      const earlier = earlierResult(claim, created.idempotency);
      if (earlier) {
        const original = await getSessionSummary(ctx.db, ctx.auth.organizationId, earlier);
        if (!original)
          throw new AppError('CONFLICT', 'The session made with this Idempotency-Key was deleted; use a new key.');
        return sessionView(original);
      }
      throw new AppError('NOT_FOUND', `Persona ${input.personaId} not found.`);
    }),

  listSessions: authedProcedure
    .input(
      z
        .object({
          personaId: id.optional(),
          userId: endUserId.optional(),
          status: z.enum(sessionStatuses).optional(),
          platform: z.enum(platforms).optional(),
          limit: limit(100, 50),
          cursor,
        })
        .default({ limit: 50 }),
    )
    .query(async ({ ctx, input }) => {
      const { limit: pageSize, cursor: after, ...filter } = input;
      const rows = await listSessions(ctx.db, ctx.auth.organizationId, filter, { limit: pageSize, cursor: after });
      return rows.map(sessionView);
    }),

  getSession: authedProcedure
    .input(z.object({ id, includeAttachmentText: z.boolean().default(false) }))
    .query(async ({ ctx, input }) => {
      const found = await getSessionWithMessages(ctx.db, ctx.auth.organizationId, input.id, input);
      if (!found) throw notFound(input.id);
      return { ...sessionView(found.session), messages: found.messages.map(messageView) };
    }),

  updateSession: authedProcedure
    .input(
      z
        .object({ id, title: title.nullable().optional(), status: z.enum(sessionStatuses).optional() })
        .refine((v) => v.title !== undefined || v.status !== undefined, 'Nothing to update: send title and/or status.'),
    )
    .mutation(async ({ ctx, input }) => {
      const row = await updateSession(ctx.db, ctx.auth.organizationId, input.id, input);
      if (!row) throw notFound(input.id);
      if (row.webhookEvents) kickOutbox({ ...ctx, organizationId: ctx.auth.organizationId });
      return sessionView(row);
    }),

  deleteSession: authedProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    const row = await deleteSession(ctx.db, ctx.auth.organizationId, input.id);
    if (!row) throw notFound(input.id);
    return { id: row.id, deleted: true as const };
  }),

  /**
   * Deletes one message for good: a user message with its replies, any other message alone. The next
   * turn's history is read without them. Refused while one of them is being generated (stop it first).
   */
  deleteMessage: authedProcedure.input(z.object({ messageId: id })).mutation(async ({ ctx, input }) => {
    const result = await deleteMessageWithReplies(ctx.db, ctx.auth.organizationId, input.messageId);
    if (!result.found) throw new AppError('NOT_FOUND', `Message ${input.messageId} not found.`);
    if (result.streaming) {
      throw new AppError(
        'CONFLICT',
        `A reply to message ${input.messageId} is being generated; stop it (chat.stopReply) or wait, then delete.`,
      );
    }
    if (result.chatSessionId && result.deletedIds.length > 0) await forgetSessionHistory(ctx, result.chatSessionId);
    return { chatSessionId: result.chatSessionId, deletedMessageIds: result.deletedIds };
  }),

  listMessages: authedProcedure
    .input(z.object({ chatSessionId: id, limit: limit(200, 50), cursor }))
    .query(async ({ ctx, input }) => {
      const rows = await listMessages(ctx.db, ctx.auth.organizationId, input);
      if (!rows) throw notFound(input.chatSessionId);
      return rows.map(messageView);
    }),

  sendMessage: authedProcedure.input(sendMessageInput).mutation(async ({ ctx, input }) => {
    if (input.role === 'USER') assertModelConfigured(ctx.config.model);
    const attachments = await prepareAttachments(ctx, input.chatSessionId, input.attachments);
    const turn = await runTurn(ctx, { ...input, attachments });
    if (!turn.reply) return turn.message;
    if (turn.reply.status === 'INCOMPLETE') {
      // The same answer for the original request and for a retry with its Idempotency-Key.
      const recorded = turn.reply.metadata.error as { code?: AppErrorCode; message?: string } | undefined;
      const code = recorded?.code ?? 'MODEL_ERROR';
      const message = recorded?.message ?? 'The reply could not be generated.';
      throw new AppError(
        code === 'MODEL_TIMEOUT' ? 'MODEL_TIMEOUT' : 'MODEL_ERROR',
        `${message} Your message was saved (${turn.message.id}); the partial reply ${turn.reply.id} is marked INCOMPLETE.`,
      );
    }
    return turn.reply;
  }),

  ...chatStreamProcedures,
  ...regenerateProcedures,
});
