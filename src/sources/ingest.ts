import { resolveEmbedder } from '../ai/embedder';
import { loadConfig } from '../config';
import type { Db } from '../db/client';
import { claimSourceAttempt, completeSource, failSource } from '../db/queries/sources';
import type { Env } from '../env';
import { backgroundRequestId } from '../log';
import { chunkPages } from './chunk';
import { embedSourceChunks } from './embed';
import { extractSource } from './extract';
import { SourceFailure } from './failure';
import type { SourceJob } from './job';

/** The pages' text up to `maxChars` characters in all (the last page kept cut). */
export function pagesWithin(all: string[], maxChars: number): { pages: string[]; chars: number } {
  let chars = 0;
  const pages: string[] = [];
  for (const page of all) {
    if (chars >= maxChars) break;
    const kept = page.length + chars > maxChars ? page.slice(0, maxChars - chars).toWellFormed() : page;
    pages.push(kept);
    chars += kept.length;
  }
  return { pages, chars };
}

/**
 * Ingests one source: reads its bytes from R2, extracts text page by page, chunks it, and writes
 * chunks + READY in one statement. What the document itself makes impossible (no text, password,
 * damage, wrong type) marks it FAILED at once, since retrying cannot help. Anything else (database,
 * R2) throws, and the queue retries the job; after the last retry the dead-letter queue marks the
 * source FAILED with INGESTION_FAILED (services/knowledge-queue.ts).
 */
export async function ingestSource(db: Db, env: Env, job: SourceJob): Promise<'READY' | 'FAILED' | 'SKIPPED'> {
  const source = await claimSourceAttempt(db, job.organizationId, job.sourceId);
  if (!source) return 'SKIPPED'; // deleted, or already READY/FAILED by an earlier delivery
  const config = loadConfig(env);
  const limits = config.sources;
  const object = await env.SOURCE_BLOBS?.get(source.blobKey);
  if (!object) {
    await failSource(db, job.organizationId, source.id, 'INGESTION_FAILED', 'The stored document is missing.');
    return 'FAILED';
  }
  const bytes = new Uint8Array(await object.arrayBuffer());
  try {
    const extracted = await extractSource({ filename: source.filename, mimeType: source.mimeType, bytes }, limits);
    const { pages, chars } = pagesWithin(extracted.pages, limits.maxChars);
    const chunks = chunkPages(pages, extracted.paged);
    const done = await completeSource(db, job.organizationId, source.id, {
      chunks,
      pageCount: extracted.pageCount,
      pagesIndexed: extracted.paged ? pages.length : null,
      charCount: chars,
    });
    if (!done) return 'SKIPPED';
    // Embeddings (issue 17) after READY, never failing it: full-text retrieval works without them.
    const scope = { requestId: backgroundRequestId('queue'), env };
    const owner = { organizationId: job.organizationId, id: source.id };
    await embedSourceChunks(db, scope, resolveEmbedder(config), owner, chunks, config.embeddings.maxChunksPerSource);
    return 'READY';
  } catch (error) {
    if (error instanceof SourceFailure) {
      await failSource(db, job.organizationId, source.id, error.code, error.message);
      return 'FAILED';
    }
    throw error;
  }
}
