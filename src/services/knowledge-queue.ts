import { createDb } from '../db/client';
import { failSource } from '../db/queries/sources';
import type { Env } from '../env';
import { backgroundRequestId, type LogScope, log } from '../log';
import { ingestSource } from '../sources/ingest';
import { asKnowledgeJob, type KnowledgeJob, SOURCE_JOB_MAX_ATTEMPTS } from '../sources/job';
import { closeAttachmentJob, indexAttachment } from './attachment-ingest';

/** Name of the dead-letter queue (wrangler.toml): a job arriving there has used all its retries. */
export const SOURCE_DEAD_LETTER_QUEUE = 'knowledge-ingest-dlq';

/** A job that used all its retries: its source or attachment is FAILED, and nothing is retried. */
async function deadLetter(env: Env, scope: LogScope, job: KnowledgeJob): Promise<void> {
  const db = createDb(env);
  if ('sourceId' in job) {
    await failSource(
      db,
      job.organizationId,
      job.sourceId,
      'INGESTION_FAILED',
      `Ingestion failed ${SOURCE_JOB_MAX_ATTEMPTS} times (a temporary fault that did not clear); delete the source and add it again.`,
    );
    return;
  }
  await closeAttachmentJob(db, env, scope, job, 'FAILED');
}

/**
 * The Worker's handler of the knowledge-ingest queue and its dead-letter queue: one message per
 * knowledge source (src/sources/ingest.ts) or per message attachment left unread by its request
 * (attachment-index.ts). Messages are acked or retried one by one, so one bad document never holds
 * back the others of its batch.
 */
export const knowledgeQueue: ExportedHandlerQueueHandler<Env, unknown> = async (batch, env) => {
  const db = createDb(env);
  const scope = { requestId: backgroundRequestId('queue'), env };
  for (const message of batch.messages) {
    const job = asKnowledgeJob(message.body);
    if (!job) {
      log('warn', scope, 'ingest.malformed_message', { queue: batch.queue });
      message.ack();
      continue;
    }
    try {
      if (batch.queue === SOURCE_DEAD_LETTER_QUEUE) await deadLetter(env, scope, job);
      else if ('sourceId' in job) await ingestSource(db, env, job);
      else await indexAttachment(db, env, scope, job);
      message.ack();
    } catch (error) {
      log('warn', scope, 'ingest.retry', { job, attempt: message.attempts }, error);
      message.retry({ delaySeconds: Math.min(60, 5 * message.attempts) });
    }
  }
};
