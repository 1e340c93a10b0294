import { sql } from 'drizzle-orm';
import type { Db } from '../client';

export type Passage = {
  chunkId: string;
  /** The persona's source the passage comes from; null for a passage of a session's attachment. */
  sourceId: string | null;
  /** The session's message attachment the passage comes from (issue 17); null for a source's. */
  attachmentId: string | null;
  filename: string;
  pageStart: number | null;
  pageEnd: number | null;
  heading: string | null;
  text: string;
  score: number;
};

/** Words too common to rank by (English and German, the languages of our users' documents so far). */
const STOPWORDS = new Set(
  (
    'the and for are but not you all any can had her was one our out has have him his how its may new now see ' +
    'two who did get let say she too use what when where which while with this that these those from into than ' +
    'then there their them they will would should could about does page pages text document ' +
    'der die das und ist nicht ein eine einer eines dem den des mit von für auf aus bei sich sie wie was wer ' +
    'wird werden auch als oder aber nur noch nach über unter sind war hat haben dass zum zur im am'
  ).split(' '),
);
const MAX_QUERY_TERMS = 32;

/**
 * The words of a question as an OR'ed tsquery. Only letters and digits pass (no tsquery operator
 * can be formed from user text), at most MAX_QUERY_TERMS distinct words, so the query's cost does
 * not grow with the message.
 */
export function queryTerms(question: string): string | null {
  const words = new Set<string>();
  for (const match of question
    .slice(0, 4_000)
    .toLowerCase()
    .matchAll(/[\p{L}\p{N}]+/gu)) {
    const w = match[0];
    if (w.length < 3 || STOPWORDS.has(w)) continue;
    words.add(w.slice(0, 60));
    if (words.size >= MAX_QUERY_TERMS) break;
  }
  return words.size === 0 ? null : [...words].join(' | ');
}

/**
 * Full-text search over one persona's READY sources and, when `chatSessionId` is given, the chunks
 * of that session's large attachments: the chunks matching any of the question's words, ranked by
 * ts_rank (normalised by length), best first. One statement; each branch is filtered by
 * organization and by persona or session (indexes knowledge_chunks_persona_idx / _session_idx, and
 * the GIN index on knowledge_chunks.search).
 */
export async function searchKnowledge(
  db: Db,
  organizationId: string,
  personaId: string,
  question: string,
  limit: number,
  chatSessionId?: string,
): Promise<Passage[]> {
  const terms = queryTerms(question);
  if (terms === null) return [];
  const attachmentBranch = chatSessionId
    ? sql`
    union all
    select c.id, null, c.attachment_id, a.filename, c.page_start, c.page_end, c.heading, c.text,
      ts_rank(c.search, q.query, 1)::float8
    from q, knowledge_chunks c join attachments a on a.id = c.attachment_id and a.organization_id = c.organization_id
    where c.organization_id = ${organizationId} and c.chat_session_id = ${chatSessionId} and c.search @@ q.query`
    : sql``;
  const result = await db.execute<Passage>(sql`
    with q as (select to_tsquery('simple'::regconfig, ${terms}) as query)
    select * from (
    select c.id as "chunkId", c.source_id as "sourceId", null as "attachmentId", s.filename,
      c.page_start as "pageStart", c.page_end as "pageEnd", c.heading, c.text, ts_rank(c.search, q.query, 1)::float8 as score
    from q, knowledge_chunks c join knowledge_sources s on s.id = c.source_id and s.organization_id = c.organization_id
    where c.organization_id = ${organizationId} and c.persona_id = ${personaId} and s.status = 'READY'
      and c.search @@ q.query${attachmentBranch}
    ) found
    order by score desc, "chunkId"
    limit ${limit}`);
  return result.rows;
}
