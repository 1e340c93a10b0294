import { z } from 'zod';
import { listPersonaFeedback, listSessionFeedback, rateReply, removeRating } from '../../db/queries/feedback';
import { feedbackRatings } from '../../db/schema';
import { AppError } from '../../errors';
import { cursor, id, limit, text } from '../../inputs/common';
import { feedbackView, ratedReplyView } from '../../views/feedback';
import { authedProcedure, router } from '../init';

const messageNotFound = (messageId: string) => new AppError('NOT_FOUND', `Message ${messageId} not found.`);
/** A short label the organization picks, e.g. `inaccurate`; filterable exactly. */
const reason = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(50, 'is too long (max 50 characters)')
  .regex(/^[\w .:-]+$/, 'must be a short label (letters, digits, spaces, "_", "-", ".", ":")');
const endUserId = text(200).pipe(z.string().trim().min(1, 'must not be empty'));
const instant = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' });

export const feedbackRouter = router({
  /** Rates an assistant reply; rating it again replaces the rating (one per reply, the latest wins). */
  rate: authedProcedure
    .input(
      z.object({
        messageId: id,
        rating: z.enum(feedbackRatings),
        reason: reason.nullish(),
        comment: text(2_000).nullish(),
        userId: endUserId.nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const outcome = await rateReply(ctx.db, ctx.auth.organizationId, {
        messageId: input.messageId,
        rating: input.rating,
        reason: input.reason ?? null,
        comment: input.comment?.trim() || null,
        userId: input.userId ?? null,
      });
      switch (outcome.kind) {
        case 'not-found':
          throw messageNotFound(input.messageId);
        case 'not-a-reply':
          throw new AppError(
            'BAD_REQUEST',
            `Message ${input.messageId} is a ${outcome.role} message; only assistant replies can be rated.`,
          );
        case 'generating':
          throw new AppError('CONFLICT', `Reply ${input.messageId} is still being generated; rate it when it is done.`);
        case 'rated':
          return feedbackView(outcome.feedback);
      }
    }),

  /** Removes a reply's rating; `removed: false` when it had none. */
  remove: authedProcedure.input(z.object({ messageId: id })).mutation(async ({ ctx, input }) => {
    const result = await removeRating(ctx.db, ctx.auth.organizationId, input.messageId);
    if (!result) throw messageNotFound(input.messageId);
    return { messageId: input.messageId, removed: result.removed };
  }),

  /** The ratings of one session's replies (the playground shows them beside the messages). */
  listForSession: authedProcedure
    .input(z.object({ chatSessionId: id, limit: limit(200, 100), cursor }))
    .query(async ({ ctx, input }) => {
      const rows = await listSessionFeedback(ctx.db, ctx.auth.organizationId, input);
      if (!rows) throw new AppError('NOT_FOUND', `Chat session ${input.chatSessionId} not found.`);
      return rows.map(feedbackView);
    }),

  /** Rated replies of a persona, most recently rated first, to see what to improve. */
  listForPersona: authedProcedure
    .input(
      z
        .object({
          personaId: id,
          rating: z.enum(feedbackRatings).optional(),
          reason: reason.optional(),
          userId: endUserId.optional(),
          from: instant.optional(),
          to: instant.optional(),
          limit: limit(100, 50),
          cursor,
        })
        .refine((v) => !v.from || !v.to || Date.parse(v.from) <= Date.parse(v.to), {
          message: 'must not be before from',
          path: ['to'],
        }),
    )
    .query(async ({ ctx, input }) => {
      const { limit: pageSize, cursor: after, ...filter } = input;
      const rows = await listPersonaFeedback(ctx.db, ctx.auth.organizationId, filter, {
        limit: pageSize,
        cursor: after,
      });
      return rows.map(ratedReplyView);
    }),
});
