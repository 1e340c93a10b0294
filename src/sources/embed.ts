import { EMBEDDING_BATCH, type Embedder } from '../ai/embedder';
import type { Db } from '../db/client';
import { hasEmbeddingsTable, storeSourceEmbeddings } from '../db/queries/embeddings';
import type { Chunk } from '../db/queries/sources';
import { type LogScope, log } from '../log';

export type EmbedOutcome =
  | { status: 'embedded'; chunks: number; calls: number }
  | { status: 'skipped'; reason: 'no-embedder' | 'no-pgvector' | 'no-chunks' }
  | { status: 'failed'; chunks: number; calls: number };

/**
 * Embeds a READY source's chunks (issue 17), on the queue, after the chunks are written: at most
 * `maxChunks` chunks (EMBEDDING_MAX_CHUNKS), EMBEDDING_BATCH per call, each batch stored as it
 * comes. It never fails the ingestion: a failed call is logged (`ingest.embedding_failed`) and the
 * source keeps what was stored before it; the rest of its chunks are found by full-text search.
 * A source becomes READY before its vectors exist, so a turn in between gets full-text only.
 */
export async function embedSourceChunks(
  db: Db,
  scope: LogScope,
  embedder: Embedder | null,
  source: { organizationId: string; id: string },
  chunks: Chunk[],
  maxChunks: number,
): Promise<EmbedOutcome> {
  if (!embedder) return { status: 'skipped', reason: 'no-embedder' };
  const todo = chunks.slice(0, maxChunks);
  if (todo.length === 0) return { status: 'skipped', reason: 'no-chunks' };
  let calls = 0;
  let stored = 0;
  try {
    if (!(await hasEmbeddingsTable(db))) return { status: 'skipped', reason: 'no-pgvector' };
    for (let i = 0; i < todo.length; i += EMBEDDING_BATCH) {
      const batch = todo.slice(i, i + EMBEDDING_BATCH);
      calls++;
      const vectors = await embedder.embed(batch.map(embeddingInput), AbortSignal.timeout(60_000));
      const items = batch.map((c, j) => ({ ordinal: c.ordinal, embedding: vectors[j] ?? [] }));
      stored += await storeSourceEmbeddings(db, source.organizationId, source.id, embedder.id, items);
    }
  } catch (error) {
    log(
      'warn',
      scope,
      'ingest.embedding_failed',
      { sourceId: source.id, model: embedder.id, chunksEmbedded: stored, chunks: todo.length, calls },
      error,
    );
    return { status: 'failed', chunks: stored, calls };
  }
  log('info', scope, 'ingest.embedded', { sourceId: source.id, model: embedder.id, chunks: stored, calls });
  return { status: 'embedded', chunks: stored, calls };
}

/** What is embedded of a chunk: its heading (context the text may lack) and its text. */
function embeddingInput(chunk: Chunk): string {
  return chunk.heading ? `${chunk.heading}\n${chunk.text}` : chunk.text;
}
