import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import type { feedbackRatings } from '../schema';
import { type FeedbackRow, feedbackColumns, selectList } from './projections';

export type { FeedbackRow };

export type FeedbackRating = (typeof feedbackRatings)[number];

/** A rating that is not there: the left-joined side of a query that found the message or session but no rating. */
type NoFeedback = { [K in keyof FeedbackRow]: null };

/** `f`'s columns under FeedbackRow's keys (f: message_feedback or a row of it). */
const feedbackSelect = selectList(feedbackColumns, { message_feedback: 'f' });

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
  const result = await db.execute<{ targetRole: string } & (FeedbackRow | NoFeedback)>(sql`
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
      returning ${feedbackSelect}
    )
    select target.role as "targetRole", f.*
    from target left join f on true`);
  const row = result.rows[0];
  if (!row) return { kind: 'not-found' };
  const { targetRole, ...feedback } = row;
  if (targetRole !== 'ASSISTANT') return { kind: 'not-a-reply', role: targetRole };
  if (feedback.messageId === null) return { kind: 'generating' };
  return { kind: 'rated', feedback };
}

/** Removes a reply's rating. Undefined when the message is not the organization's. */
export async function removeRating(db: Db, organizationId: string, messageId: string) {
  const result = await db.execute<{ removed: boolean }>(sql`
    with d as (
      delete from message_feedback
      where message_id = ${messageId} and organization_id = ${organizationId}
      returning message_id
    )
    select exists (select 1 from d) as removed
    from messages m where m.id = ${messageId} and m.organization_id = ${organizationId}`);
  const row = result.rows[0];
  return row ? { removed: row.removed } : undefined;
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
  const result = await db.execute<FeedbackRow | NoFeedback>(sql`
    select ${feedbackSelect}
    from chat_sessions s
    left join lateral (
      select * from message_feedback f
      where f.chat_session_id = s.id and f.organization_id = ${organizationId} ${after}
      order by f.message_id limit ${input.limit}
    ) f on true
    where s.id = ${input.chatSessionId} and s.organization_id = ${organizationId}
    order by f.message_id`);
  if (result.rows.length === 0) return undefined;
  return result.rows.filter((r): r is FeedbackRow => r.messageId !== null);
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

/** A rating with the reply it rates and the question that reply answered, each cut to FEEDBACK_EXCERPT_CHARS. */
export type RatedReply = FeedbackRow & {
  reply: { content: string; truncated: boolean; status: string; createdAt: string; personaVersion: number | null };
  question: { id: string; content: string; truncated: boolean } | null;
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
  // metadata is free-form JSON: personaVersion is reported only when it is a number.
  const version = sql`case when jsonb_typeof(r.metadata -> 'personaVersion') = 'number' then r.metadata -> 'personaVersion' end`;
  const result = await db.execute<RatedReply>(sql`
    select ${feedbackSelect},
      json_build_object('content', left(r.content, ${cut}), 'truncated', char_length(r.content) > ${cut},
        'status', r.status, 'createdAt', r.created_at, 'personaVersion', ${version}) as reply,
      case when q.id is null then null else json_build_object('id', q.id, 'content', left(q.content, ${cut}),
        'truncated', char_length(q.content) > ${cut}) end as question
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
  return result.rows;
}
