import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { vectorLiteral } from './embeddings';
import { type Passage, queryTerms } from './retrieval';

/** Reciprocal rank fusion's constant (Cormack et al. 2009): damps the weight of the very first ranks. */
export const RRF_K = 60;

/**
 * Vectors farther than this from the question (cosine distance; 0.8 is a similarity of 0.2) are no
 * candidates: a nearest neighbour always exists, and an unrelated passage must not be sent just
 * because the persona has few. Unrelated texts score about 0 to 0.15 with text-embedding-3-small
 * and the offline embedder, related ones 0.3 and more.
 */
export const MAX_COSINE_DISTANCE = 0.8;

/** A candidate with its rank (1-based) in each ranking it appears in; null where it is absent. */
export type RankedCandidate = { id: string; ranks: (number | null)[] };

/**
 * Reciprocal rank fusion: score = Σ 1 / (k + rank) over the rankings a candidate is in, best
 * first; ties by best single rank, then id (stable, so a turn is reproducible). Scores need no
 * common scale: ts_rank and cosine distance are not comparable, ranks are.
 */
export function reciprocalRankFusion<T extends RankedCandidate>(candidates: T[], k = RRF_K): (T & { score: number })[] {
  const scored = candidates.map((c) => ({
    ...c,
    score: c.ranks.reduce<number>((sum, r) => (r === null ? sum : sum + 1 / (k + r)), 0),
    best: Math.min(...c.ranks.map((r) => r ?? Number.POSITIVE_INFINITY)),
  }));
  scored.sort((a, b) => b.score - a.score || a.best - b.best || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return scored.map(({ best: _best, ...c }) => c as T & { score: number });
}

type HybridRow = Omit<Passage, 'score'> & { ftRank: number | null; vecRank: number | null };

/**
 * Hybrid retrieval (issue 17), ONE statement: the full-text top `depth` (GIN index
 * knowledge_chunks_search_idx, ts_rank; the persona's READY sources and, with `chatSessionId`, the
 * session's attachment chunks, which have no embeddings) and the vector top `depth` (cosine distance
 * `<=>` on knowledge_embeddings of the persona's sources embedded by `model`: the HNSW index
 * knowledge_embeddings_hnsw_idx where the planner prefers it to scanning the persona's rows through
 * knowledge_embeddings_persona_idx), joined by chunk id with each side's rank, then fused in code
 * by reciprocal rank fusion. Organization and persona (or session) filter every branch.
 */
export async function searchKnowledgeHybrid(
  db: Db,
  scope: { organizationId: string; personaId: string; chatSessionId?: string | undefined },
  question: string,
  vector: { model: string; embedding: number[] },
  limit: number,
  depth = 20,
): Promise<Passage[]> {
  const { organizationId: org, personaId, chatSessionId } = scope;
  const terms = queryTerms(question);
  const attachments = chatSessionId
    ? sql`union all
        select c.id, ts_rank(c.search, q.query, 1) as score from q, knowledge_chunks c
        where c.organization_id = ${org} and c.chat_session_id = ${chatSessionId} and c.search @@ q.query`
    : sql``;
  const fullText =
    terms === null
      ? sql`select null::text as id, null::bigint as r where false`
      : sql`select id, row_number() over (order by score desc, id) as r from (
          select c.id, ts_rank(c.search, q.query, 1) as score
          from q, knowledge_chunks c join knowledge_sources s on s.id = c.source_id and s.organization_id = c.organization_id
          where c.organization_id = ${org} and c.persona_id = ${personaId} and s.status = 'READY' and c.search @@ q.query
          ${attachments}
          order by score desc, id limit ${depth}) f`;
  const result = await db.execute<HybridRow>(sql`
    with q as (select to_tsquery('simple'::regconfig, ${terms ?? ''}) as query),
    ft as (${fullText}),
    vec as (
      select id, row_number() over (order by distance, id) as r from (
        select e.chunk_id as id, e.embedding <=> ${vectorLiteral(vector.embedding)}::vector as distance
        from knowledge_embeddings e
        where e.organization_id = ${org} and e.persona_id = ${personaId} and e.model = ${vector.model}
        order by distance limit ${depth}) v
      where distance <= ${MAX_COSINE_DISTANCE}
    )
    select c.id as "chunkId", c.source_id as "sourceId", c.attachment_id as "attachmentId",
      coalesce(s.filename, a.filename) as filename, c.page_start as "pageStart", c.page_end as "pageEnd",
      c.heading, c.text, ft.r::integer as "ftRank", vec.r::integer as "vecRank"
    from ft full join vec on vec.id = ft.id
    join knowledge_chunks c on c.id = coalesce(ft.id, vec.id) and c.organization_id = ${org}
    left join knowledge_sources s on s.id = c.source_id and s.organization_id = c.organization_id
    left join attachments a on a.id = c.attachment_id and a.organization_id = c.organization_id`);
  const fused = reciprocalRankFusion(result.rows.map((r) => ({ ...r, id: r.chunkId, ranks: [r.ftRank, r.vecRank] })));
  return fused.slice(0, limit).map(({ id: _id, ranks: _ranks, ftRank: _f, vecRank: _v, ...p }) => p);
}
