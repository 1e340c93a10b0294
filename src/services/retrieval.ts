import type { Embedder } from '../ai/embedder';
import type { ContextAttachment, KnowledgePassage } from '../ai/prompt';
import { estimateTokens } from '../config';
import type { Db } from '../db/client';
import { searchKnowledgeHybrid } from '../db/queries/hybrid-retrieval';
import { type Passage, searchKnowledge } from '../db/queries/retrieval';
import { type LogScope, log } from '../log';

/** Passages ranked per turn; those that fit the knowledge budget are sent. */
export const RETRIEVAL_CANDIDATES = 8;

/** What the reply's metadata says was used, so a client can show citations. */
export type KnowledgeCitation = {
  /** One of the two: the persona's source, or the session's message attachment (issue 17). */
  sourceId?: string;
  attachmentId?: string;
  filename: string;
  pages: number[] | null;
  score: number;
};

export type TurnKnowledge = {
  passages: KnowledgePassage[];
  used: KnowledgeCitation[];
  tokenBudget: number;
  /** Set when retrieval failed: the reply is then generated without knowledge rather than lost. */
  error?: string;
};

/** A turn of a persona without READY sources: no retrieval round trip. */
export const NO_KNOWLEDGE: TurnKnowledge = Object.freeze({ passages: [], used: [], tokenBudget: 0 }) as TurnKnowledge;

function pagesOf(p: Passage): number[] | null {
  if (p.pageStart === null) return null;
  const end = p.pageEnd ?? p.pageStart;
  const out: number[] = [];
  for (let n = p.pageStart; n <= end && out.length < 10; n++) out.push(n);
  return out;
}

export type TurnQuery = {
  organizationId: string;
  personaId: string;
  question: string;
  tokenBudget: number;
  chatSessionId?: string;
  /** The deployment's embedder (src/ai/embedder.ts), null when embeddings are off or unavailable. */
  embedder?: Embedder | null;
  /** The embedder of the persona's newest embedded READY source (turn-reads.ts); null: none has vectors. */
  embeddingModel?: string | null;
};

/** Which retrieval a turn ran: hybrid only when the persona's sources have vectors of this embedder. */
export type RetrievalPath = 'hybrid' | 'full-text';

/**
 * The passages for a question. Hybrid (full-text and vector rankings in one statement, fused by
 * reciprocal rank fusion: src/db/queries/hybrid-retrieval.ts) when the persona has sources embedded
 * by this deployment's embedder, so the question is embedded (one embedding call per USER turn)
 * only then; otherwise, and when that call or the hybrid statement fails, full-text only (no pgvector, EMBEDDINGS=off,
 * sources embedded by another model). The path is logged with the turn (`knowledge_retrieval`).
 */
async function findPassages(db: Db, scope: LogScope, query: TurnQuery): Promise<Passage[]> {
  const { organizationId, personaId, question, chatSessionId, embedder } = query;
  let path: RetrievalPath = 'full-text';
  let found: Passage[] | undefined;
  if (embedder && query.embeddingModel === embedder.id) {
    let embedding: number[] | undefined;
    try {
      [embedding] = await embedder.embed([question], AbortSignal.timeout(10_000));
    } catch (error) {
      log('warn', scope, 'knowledge_query_embedding_failed', { personaId, model: embedder.id }, error);
    }
    if (embedding) {
      const vector = { model: embedder.id, embedding };
      const owner = { organizationId, personaId, chatSessionId };
      // A failed hybrid statement falls back to full-text rather than losing the turn's knowledge.
      found = await searchKnowledgeHybrid(db, owner, question, vector, RETRIEVAL_CANDIDATES).catch((error) => {
        log('warn', scope, 'knowledge_hybrid_failed', { personaId }, error);
        return undefined;
      });
      if (found) path = 'hybrid';
    }
  }
  found ??= await searchKnowledge(db, organizationId, personaId, question, RETRIEVAL_CANDIDATES, chatSessionId);
  log('info', scope, 'knowledge_retrieval', { personaId, path, passages: found.length });
  return found;
}

/**
 * The knowledge for one USER turn: the passages of the persona's READY sources and of the
 * session's chunked attachments (when `chatSessionId` is given) for the user's message, best
 * first (findPassages: hybrid or full-text), kept while they fit `tokenBudget`
 * (config.context.knowledgeTokenBudget: KNOWLEDGE_TOKEN_BUDGET, by default a quarter of the context
 * budget; the history gets the rest). One query per turn (and one embedding call when hybrid).
 */
export async function retrieveForTurn(db: Db, scope: LogScope, query: TurnQuery): Promise<TurnKnowledge> {
  const { personaId, tokenBudget } = query;
  if (tokenBudget <= 0) return { passages: [], used: [], tokenBudget };
  let found: Passage[];
  try {
    found = await findPassages(db, scope, query);
  } catch (error) {
    log('warn', scope, 'knowledge_retrieval_failed', { personaId }, error);
    return { passages: [], used: [], tokenBudget, error: 'Knowledge retrieval failed for this turn.' };
  }
  const passages: KnowledgePassage[] = [];
  const used: KnowledgeCitation[] = [];
  let spent = 0;
  for (const p of found) {
    // Delimiters and attributes cost about 40 tokens on top of the text.
    const cost = estimateTokens(p.text) + 40;
    if (spent + cost > tokenBudget) continue;
    spent += cost;
    passages.push({
      sourceId: p.sourceId,
      attachmentId: p.attachmentId,
      filename: p.filename,
      pageStart: p.pageStart,
      pageEnd: p.pageEnd,
      text: p.text,
    });
    used.push({
      ...(p.attachmentId !== null ? { attachmentId: p.attachmentId } : { sourceId: p.sourceId ?? '' }),
      filename: p.filename,
      pages: pagesOf(p),
      score: Number(p.score.toFixed(6)),
    });
  }
  return { passages, used, tokenBudget };
}

/**
 * The knowledge without passages of attachments the prompt already holds whole (a passage would
 * repeat them); null when nothing is to be dropped. An attachment included only in part, or not at
 * all, keeps its passages: that is what they are for. So does one whose stored text is itself only
 * the document's beginning (`truncated`: a long PDF read in the request up to its budget).
 */
export function withoutWholeAttachments(
  knowledge: TurnKnowledge,
  included: ContextAttachment[],
  history: { attachments: { id: string; truncated: boolean }[] }[],
): TurnKnowledge | null {
  const cut = new Set(history.flatMap((m) => m.attachments.filter((a) => a.truncated).map((a) => a.id)));
  const whole = new Set(included.filter((a) => !a.partial && !cut.has(a.id)).map((a) => a.id));
  const drop = knowledge.passages.map((p) => typeof p.attachmentId === 'string' && whole.has(p.attachmentId));
  if (!drop.includes(true)) return null;
  return {
    ...knowledge,
    passages: knowledge.passages.filter((_, i) => !drop[i]),
    used: knowledge.used.filter((_, i) => !drop[i]),
  };
}
