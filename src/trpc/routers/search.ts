import { z } from 'zod';
import { type SearchCursor, searchMessages } from '../../db/queries/search';
import { messageRoles, platforms, sessionStatuses } from '../../db/schema';
import { id, limit, text } from '../../inputs/common';
import { searchHitView } from '../../views/search';
import { authedProcedure, router } from '../init';

/** Bounds on a query: its length and its words (each word is a GIN lookup and a ranking term). */
export const SEARCH_MAX_QUERY_CHARS = 200;
export const SEARCH_MAX_QUERY_WORDS = 16;

const searchQuery = text(SEARCH_MAX_QUERY_CHARS)
  .pipe(z.string().trim().min(1, 'must not be empty'))
  .refine(
    (q) => (q.match(/[\p{L}\p{N}]+/gu)?.length ?? 0) <= SEARCH_MAX_QUERY_WORDS,
    `has too many words (max ${SEARCH_MAX_QUERY_WORDS})`,
  );

/** `<rank>:<message id>` of the last hit of the previous page, as `nextCursor` gave it. */
const searchCursor = z
  .string()
  .max(140)
  .regex(/^\d+(?:\.\d+)?(?:e[+-]?\d+)?:[\w-]{1,100}$/, 'must be a nextCursor from a previous page')
  .transform((value): SearchCursor => {
    const at = value.indexOf(':');
    return { rank: Number(value.slice(0, at)), id: value.slice(at + 1) };
  });

const endUserId = text(200).pipe(z.string().trim().min(1, 'must not be empty'));
const instant = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' });

export const searchRouter = router({
  /** Full-text search over the organization's messages, best match first, with highlighted snippets. */
  messages: authedProcedure
    .input(
      z.object({
        query: searchQuery,
        personaId: id.optional(),
        userId: endUserId.optional(),
        chatSessionId: id.optional(),
        status: z.enum(sessionStatuses).optional(),
        platform: z.enum(platforms).optional(),
        role: z.enum(messageRoles).optional(),
        from: instant.optional(),
        to: instant.optional(),
        limit: limit(50, 20),
        cursor: searchCursor.optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const { query, limit: pageSize, cursor, ...filter } = input;
      const rows = await searchMessages(ctx.db, ctx.auth.organizationId, {
        query,
        filter,
        limit: pageSize,
        cursor,
      });
      const items = rows.map(searchHitView);
      const last = items.at(-1);
      return { items, nextCursor: last && items.length === pageSize ? `${last.rank}:${last.messageId}` : null };
    }),
});
