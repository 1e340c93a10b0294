import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import type { messageRoles, platforms, sessionStatuses } from '../schema';

/**
 * At most this many matches (the newest) are ranked per request. Finding matches is one GIN scan
 * inside the organization (see schema/search.ts), but ranking reads each match's vector, so a
 * query matching most of a big organization would cost in proportion; past this many, narrow
 * the query or add filters.
 */
export const SEARCH_MAX_RANKED = 1_000;
/** ts_headline parses the text it highlights: only the page's rows, and only this much of each. */
export const SNIPPET_SOURCE_CHARS = 3_000;

export type SearchFilter = {
  personaId?: string | undefined;
  userId?: string | undefined;
  chatSessionId?: string | undefined;
  status?: (typeof sessionStatuses)[number] | undefined;
  platform?: (typeof platforms)[number] | undefined;
  role?: (typeof messageRoles)[number] | undefined;
  from?: string | undefined;
  to?: string | undefined;
};

/** After the item with this rank and message id, in (rank desc, id desc) order. */
export type SearchCursor = { rank: number; id: string };

export type SearchHitRow = {
  messageId: string;
  chatSessionId: string;
  role: string;
  createdAt: Date | string;
  rank: number;
  /** The snippet with \u0002 before and \u0003 after each highlighted term (split by the view). */
  marked: string;
  session: {
    title: string | null;
    personaId: string;
    personaName: string;
    userId: string | null;
    platform: string;
    status: string;
  };
};

/**
 * Messages of the organization matching a web-search-style query (`"exact phrase"`, `or`, `-word`),
 * best first (ts_rank, normalised by length), ties by newest id, keyset-paginated on (rank, id):
 * ranks depend only on a message's text and the query, so a page boundary is stable. Messages
 * still being generated are not searched.
 */
export async function searchMessages(
  db: Db,
  organizationId: string,
  input: { query: string; filter: SearchFilter; limit: number; cursor?: SearchCursor | undefined },
): Promise<SearchHitRow[]> {
  const f = input.filter;
  const tsquery = sql`websearch_to_tsquery('simple'::regconfig, ${input.query})`;
  // The organization's lexeme ANDed in keeps the GIN scan inside the organization.
  const scoped = sql`(${tsquery} && quote_literal(${organizationId})::tsquery)`;
  // Matches are found from messages alone unless a filter needs their session (a broad query can
  // match tens of thousands of messages: no join per match when none is needed).
  const joinSessions = Boolean(f.personaId || f.userId || f.status || f.platform);
  const after = input.cursor ? sql`where (rank, id) < (${input.cursor.rank}::real, ${input.cursor.id})` : sql``;
  const result = await db.execute<SearchHitRow>(sql`
    with matches as (
      select m.id, m.created_at
      from messages m
      ${joinSessions ? sql`join chat_sessions s on s.id = m.chat_session_id and s.organization_id = ${organizationId}` : sql``}
      where m.organization_id = ${organizationId} and m.status <> 'STREAMING' and m.superseded_at is null
        and numnode(${tsquery}) > 0
        and m.search_vector @@ ${scoped}
        ${f.personaId ? sql`and s.persona_id = ${f.personaId}` : sql``}
        ${f.userId ? sql`and s.user_id = ${f.userId}` : sql``}
        ${f.chatSessionId ? sql`and m.chat_session_id = ${f.chatSessionId}` : sql``}
        ${f.status ? sql`and s.status = ${f.status}` : sql``}
        ${f.platform ? sql`and s.platform = ${f.platform}` : sql``}
        ${f.role ? sql`and m.role = ${f.role}` : sql``}
        ${f.from ? sql`and m.created_at >= ${f.from}::timestamptz` : sql``}
        ${f.to ? sql`and m.created_at < ${f.to}::timestamptz` : sql``}
      order by m.created_at desc, m.id desc
      limit ${SEARCH_MAX_RANKED}
    ), ranked as (
      select m.id, m.chat_session_id, m.role, m.created_at, m.content,
        ts_rank(m.search_vector, ${tsquery}, 1) as rank
      from matches x join messages m on m.id = x.id and m.organization_id = ${organizationId}
    ), page as (
      select * from ranked ${after}
      order by rank desc, id desc
      limit ${input.limit}
    )
    select page.id as "messageId", page.chat_session_id as "chatSessionId", page.role, page.created_at as "createdAt",
      page.rank,
      ts_headline('simple'::regconfig,
        translate(left(page.content, ${SNIPPET_SOURCE_CHARS}), chr(2) || chr(3), ''), ${tsquery},
        'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxFragments=2, MaxWords=24, MinWords=8, FragmentDelimiter=" … "'
      ) as marked,
      json_build_object('title', s.title, 'personaId', s.persona_id, 'personaName', p.name, 'userId', s.user_id,
        'platform', s.platform, 'status', s.status) as session
    from page
    join chat_sessions s on s.id = page.chat_session_id and s.organization_id = ${organizationId}
    join personas p on p.id = s.persona_id and p.organization_id = ${organizationId}
    order by page.rank desc, page.id desc`);
  return result.rows;
}
