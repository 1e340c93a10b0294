import { resolveEmbedder } from '../ai/embedder';
import { loadConfig } from '../config';
import { createDb, type Db } from '../db/client';
import { claimSourceAttempt, completeSource, failSource } from '../db/queries/sources';
import type { Env } from '../env';
import { backgroundRequestId, log } from '../log';
import { chunkPages } from './chunk';
import { embedSourceChunks } from './embed';
import { extractSource } from './extract';
import { SourceFailure } from './failure';
import { SOURCE_JOB_MAX_ATTEMPTS, type SourceJob } from './job';

/** Name of the dead-letter queue (wrangler.toml): a job arriving there has used all its retries. */
export const SOURCE_DEAD_LETTER_QUEUE = 'knowledge-ingest-dlq';

/**
 * Ingests one source: reads its bytes from R2, extracts text page by page, chunks it, and writes
 * chunks + READY in one statement. What the document itself makes impossible (no text, password,
 * damage, wrong type) marks it FAILED at once, since retrying cannot help. Anything else (database,
 * R2) throws, and the queue retries the job; after the last retry the dead-letter queue marks the
 * source FAILED with INGESTION_FAILED.
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
    let chars = 0;
    const pages: string[] = [];
    for (const page of extracted.pages) {
      if (chars >= limits.maxChars) break;
      const kept = page.length + chars > limits.maxChars ? page.slice(0, limits.maxChars - chars).toWellFormed() : page;
      pages.push(kept);
      chars += kept.length;
    }
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

function asJob(body: unknown): SourceJob | undefined {
  const b = body as Partial<SourceJob> | null;
  return typeof b?.organizationId === 'string' && typeof b.sourceId === 'string'
    ? { organizationId: b.organizationId, sourceId: b.sourceId }
    : undefined;
}

/**
 * The Worker's `queue` handler: one message per source. Messages are acked or retried one by one,
 * so one bad document never holds back the others of its batch.
 */
export const queue: ExportedHandlerQueueHandler<Env, unknown> = async (batch, env) => {
  const db = createDb(env);
  const scope = { requestId: backgroundRequestId('queue'), env };
  for (const message of batch.messages) {
    const job = asJob(message.body);
    if (!job) {
      log('warn', scope, 'ingest.malformed_message', { queue: batch.queue });
      message.ack();
      continue;
    }
    if (batch.queue === SOURCE_DEAD_LETTER_QUEUE) {
      await failSource(
        db,
        job.organizationId,
        job.sourceId,
        'INGESTION_FAILED',
        `Ingestion failed ${SOURCE_JOB_MAX_ATTEMPTS} times (a temporary fault that did not clear); delete the source and add it again.`,
      );
      message.ack();
      continue;
    }
    try {
      await ingestSource(db, env, job);
      message.ack();
    } catch (error) {
      log('warn', scope, 'ingest.retry', { sourceId: job.sourceId, attempt: message.attempts }, error);
      message.retry({ delaySeconds: Math.min(60, 5 * message.attempts) });
    }
  }
};
