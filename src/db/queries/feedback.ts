import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import type { feedbackRatings } from '../schema';

export type FeedbackRating = (typeof feedbackRatings)[number];

export type FeedbackRow = {
  messageId: string;
  chatSessionId: string;
  personaId: string;
  rating: FeedbackRating;
  reason: string | null;
  comment: string | null;
  userId: string | null;
  createdAt: Date | string;
  updatedAt: Date | string;
};

export function feedbackFromRaw(r: Record<string, unknown>): FeedbackRow {
  return {
    messageId: r.message_id as string,
    chatSessionId: r.chat_session_id as string,
    personaId: r.persona_id as string,
    rating: r.rating as FeedbackRating,
    reason: (r.reason as string | null) ?? null,
    comment: (r.comment as string | null) ?? null,
    userId: (r.user_id as string | null) ?? null,
    createdAt: r.created_at as Date | string,
    updatedAt: r.updated_at as Date | string,
  };
}

const feedbackColumns = sql.raw(
  'f.message_id, f.chat_session_id, f.persona_id, f.rating, f.reason, f.comment, f.user_id, f.created_at, f.updated_at',
);

export type RateOutcome =
  | { kind: 'not-found' }
  | { kind: 'not-a-reply'; role: string }
  | { kind: 'generating' }
  | { kind: 'rated'; feedback: FeedbackRow };

/**
 * Rates a reply, or replaces its rating (one per reply: the latest wins), in one statement that
 * also tells why nothing was written: unknown message, not an assistant reply, still generating.
 */
export async function rateReply(
  db: Db,
  organizationId: string,
  input: {
    messageId: string;
    rating: FeedbackRating;
    reason: string | null;
    comment: string | null;
    userId: string | null;
  },
): Promise<RateOutcome> {
  const result = await db.execute(sql`
    with target as (
      select m.id, m.role, m.status, m.chat_session_id, s.persona_id
      from messages m
      join chat_sessions s on s.id = m.chat_session_id and s.organization_id = ${organizationId}
      where m.id = ${input.messageId} and m.organization_id = ${organizationId}
    ), f as (
      insert into message_feedback as f (message_id, organization_id, chat_session_id, persona_id, rating, reason, comment, user_id)
      select id, ${organizationId}, chat_session_id, persona_id, ${input.rating}, ${input.reason}, ${input.comment}, ${input.userId}
      from target where role = 'ASSISTANT' and status <> 'STREAMING'
      on conflict (message_id) do update
        set rating = excluded.rating, reason = excluded.reason, comment = excluded.comment,
            user_id = excluded.user_id, updated_at = now()
        where f.organization_id = ${organizationId}
      returning ${feedbackColumns}
    )
    select target.role as target_role, target.status as target_status, f.*
    from target left join f on true`);
  const row = result.rows[0];
  if (!row) return { kind: 'not-found' };
  if (row.target_role !== 'ASSISTANT') return { kind: 'not-a-reply', role: row.target_role as string };
  if (row.message_id === null || row.message_id === undefined) return { kind: 'generating' };
  return { kind: 'rated', feedback: feedbackFromRaw(row) };
}

/** Removes a reply's rating. Undefined when the message is not the organization's. */
export async function removeRating(db: Db, organizationId: string, messageId: string) {
  const result = await db.execute(sql`
    with d as (
      delete from message_feedback
      where message_id = ${messageId} and organization_id = ${organizationId}
      returning message_id
    )
    select m.id, exists (select 1 from d) as removed
    from messages m where m.id = ${messageId} and m.organization_id = ${organizationId}`);
  const row = result.rows[0];
  return row ? { removed: row.removed === true } : undefined;
}

/**
 * The ratings of one session's replies, in message id order (time order), keyset-paginated after
 * the message id `cursor`. Undefined when the session is not the organization's.
 */
export async function listSessionFeedback(
  db: Db,
  organizationId: string,
  input: { chatSessionId: string; limit: number; cursor?: string | undefined },
) {
  const after = input.cursor ? sql`and f.message_id > ${input.cursor}` : sql``;
  const result = await db.execute(sql`
    select s.id as session_id, ${feedbackColumns}
    from chat_sessions s
    left join lateral (
      select * from message_feedback f
      where f.chat_session_id = s.id and f.organization_id = ${organizationId} ${after}
      order by f.message_id limit ${input.limit}
    ) f on true
    where s.id = ${input.chatSessionId} and s.organization_id = ${organizationId}
    order by f.message_id`);
  if (result.rows.length === 0) return undefined;
  return result.rows.filter((r) => r.message_id !== null).map(feedbackFromRaw);
}

/** How much of a message's text a listing carries (the rest is one getSession/listMessages away). */
export const FEEDBACK_EXCERPT_CHARS = 4_000;

export type PersonaFeedbackFilter = {
  personaId: string;
  rating?: FeedbackRating | undefined;
  reason?: string | undefined;
  userId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
};

/**
 * Rated replies of a persona, most recently rated first, with the reply and the question it
 * answered (each cut to FEEDBACK_EXCERPT_CHARS, so a page's size is bounded). Keyset pagination:
 * `cursor` is the message id of the last item of the previous page; one index range per page.
 */
export async function listPersonaFeedback(
  db: Db,
  organizationId: string,
  filter: PersonaFeedbackFilter,
  page: { limit: number; cursor?: string | undefined },
) {
  const cut = FEEDBACK_EXCERPT_CHARS;
  const after = page.cursor
    ? sql`and (f.updated_at, f.message_id) < (select c.updated_at, c.message_id from message_feedback c
            where c.message_id = ${page.cursor} and c.organization_id = ${organizationId})`
    : sql``;
  const result = await db.execute(sql`
    select ${feedbackColumns},
      left(r.content, ${cut}) as reply_content, char_length(r.content) > ${cut} as reply_truncated,
      r.status as reply_status, r.created_at as reply_created_at, r.metadata -> 'personaVersion' as persona_version,
      q.id as question_id, left(q.content, ${cut}) as question_content,
      char_length(q.content) > ${cut} as question_truncated
    from message_feedback f
    join messages r on r.id = f.message_id and r.organization_id = ${organizationId}
    left join messages q on q.id = r.reply_to_id and q.organization_id = ${organizationId}
    where f.organization_id = ${organizationId} and f.persona_id = ${filter.personaId}
      ${filter.rating ? sql`and f.rating = ${filter.rating}` : sql``}
      ${filter.reason ? sql`and f.reason = ${filter.reason}` : sql``}
      ${filter.userId ? sql`and f.user_id = ${filter.userId}` : sql``}
      ${filter.from ? sql`and f.updated_at >= ${filter.from}::timestamptz` : sql``}
      ${filter.to ? sql`and f.updated_at < ${filter.to}::timestamptz` : sql``}
      ${after}
    order by f.updated_at desc nulls last, f.message_id desc nulls last
    limit ${page.limit}`);
  return result.rows.map((r) => ({
    ...feedbackFromRaw(r),
    reply: {
      content: r.reply_content as string,
      truncated: r.reply_truncated === true,
      status: r.reply_status as string,
      createdAt: r.reply_created_at as Date | string,
      personaVersion: typeof r.persona_version === 'number' ? r.persona_version : null,
    },
    question:
      r.question_id === null || r.question_id === undefined
        ? null
        : {
            id: r.question_id as string,
            content: r.question_content as string,
            truncated: r.question_truncated === true,
          },
  }));
}
