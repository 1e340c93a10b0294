import { loadConfig } from '../config';
import type { Db } from '../db/client';
import { completeAttachmentIndex, failAttachmentIndex, pendingAttachment } from '../db/queries/attachment-index';
import type { Env } from '../env';
import { type LogScope, log } from '../log';
import { chunkPages } from '../sources/chunk';
import { extractSource } from '../sources/extract';
import { SourceFailure } from '../sources/failure';
import { pagesWithin } from '../sources/ingest';
import { type AttachmentJob, attachmentBlobKey } from '../sources/job';
import { sessionObject } from './session-object';

/**
 * Queue side: reads the attachment's bytes from R2 whole (the sources' page and character limits),
 * swaps in its chunks (READY) in one statement, deletes the bytes, and tells the session's object.
 * What the document makes impossible marks it FAILED (the request's chunks stay); anything else
 * throws, and the queue retries.
 */
export async function indexAttachment(
  db: Db,
  env: Env,
  scope: LogScope,
  job: AttachmentJob,
): Promise<'READY' | 'FAILED' | 'SKIPPED'> {
  const { organizationId, attachmentId } = job;
  const key = attachmentBlobKey(organizationId, attachmentId);
  const attachment = await pendingAttachment(db, organizationId, attachmentId);
  if (!attachment) {
    await env.SOURCE_BLOBS?.delete(key);
    return 'SKIPPED';
  }
  const object = await env.SOURCE_BLOBS?.get(key);
  let outcome: 'READY' | 'FAILED' = 'FAILED';
  if (object) {
    const limits = loadConfig(env).sources;
    const bytes = new Uint8Array(await object.arrayBuffer());
    try {
      const extracted = await extractSource(
        { filename: attachment.filename, mimeType: attachment.mimeType, bytes },
        limits,
      );
      const { pages } = pagesWithin(extracted.pages, limits.maxChars);
      await completeAttachmentIndex(db, organizationId, attachmentId, chunkPages(pages, extracted.paged));
      outcome = 'READY';
    } catch (error) {
      if (!(error instanceof SourceFailure)) throw error;
      log('warn', scope, 'attachment_index_failed', { attachmentId, code: error.code });
    }
  }
  await closeAttachmentJob(db, env, scope, job, outcome);
  return outcome;
}

/**
 * The end of an attachment's job, whatever ended it (this job, or the dead-letter queue): FAILED
 * unless it was indexed (the request's chunks stay), the bytes deleted, the session's object told.
 */
export async function closeAttachmentJob(
  db: Db,
  env: Env,
  scope: LogScope,
  job: AttachmentJob,
  outcome: 'READY' | 'FAILED',
): Promise<void> {
  if (outcome === 'FAILED') await failAttachmentIndex(db, job.organizationId, job.attachmentId);
  await env.SOURCE_BLOBS?.delete(attachmentBlobKey(job.organizationId, job.attachmentId));
  await attachmentIndexed(env, scope, job);
}

/** Tells the session's object (a turn may be waiting); a lost notice only costs that turn its wait. */
async function attachmentIndexed(env: Env, scope: LogScope, job: AttachmentJob): Promise<void> {
  try {
    await sessionObject(env, job.organizationId, job.chatSessionId).attachmentIndexed(job.attachmentId);
  } catch (error) {
    log('warn', scope, 'attachment_index_notice_failed', { attachmentId: job.attachmentId }, error);
  }
}
