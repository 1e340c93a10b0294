import { decodeBase64 } from '../attachments/base64';
import type { AttachmentInput } from '../attachments/input';
import type { Db } from '../db/client';
import { failAttachmentIndex } from '../db/queries/attachment-index';
import type { NewAttachment } from '../db/queries/messages';
import type { Env } from '../env';
import { type LogScope, log } from '../log';
import { attachmentBlobKey } from '../sources/job';
import type { AttachmentIndexPort, IndexingReport, IndexWait } from './turn-types';

/**
 * Attachments the request could not read to the end (issue 17). A PDF is read inside the request
 * only as far as PDF_MAX_OPERATIONS / PDF_MAX_MS allow (a hostile file must not cost a request
 * more); the 117-page manual of the tests stops at page 19. Such an attachment is stored at once
 * with what was read, its bytes go to R2, and the knowledge-ingest queue reads it whole with the
 * sources' limits and swaps in its chunks. The turn that sent it waits for that (at most
 * ATTACHMENT_INDEX_WAIT_MS, told by the queue through the session's object) before retrieving,
 * so its reply can already cite page 88. Request side (stash) and turn side (queue, wait) here;
 * the queue side is attachment-ingest.ts.
 */

/** Request side: the bytes of attachments left unread go to R2 before the turn stores them. */
export async function stashUnread(
  env: Env,
  scope: LogScope,
  organizationId: string,
  inputs: AttachmentInput[],
  attachments: NewAttachment[],
): Promise<NewAttachment[]> {
  const blobs = env.SOURCE_BLOBS;
  const usable = blobs !== undefined && env.SOURCE_QUEUE !== undefined;
  const out: NewAttachment[] = [];
  for (const [i, attachment] of attachments.entries()) {
    const { indexLater, ...rest } = attachment;
    const input = inputs[i];
    if (!indexLater || !usable || !input) {
      out.push(rest);
      continue;
    }
    try {
      // pdf.js detached the bytes it read; the base64 is still here, and decoding it is cheap.
      const bytes = decodeBase64(`Attachment "${input.filename}"`, input.data);
      await blobs.put(attachmentBlobKey(organizationId, attachment.id), bytes, {
        httpMetadata: { contentType: attachment.declaredType },
      });
      out.push(attachment);
    } catch (error) {
      // Indexing the rest is an improvement, never a reason to refuse the message.
      log('warn', scope, 'attachment_stash_failed', { attachmentId: attachment.id }, error);
      out.push(rest);
    }
  }
  return out;
}

/**
 * Turn side, right after the message was stored (or refused): queues the jobs of its attachments
 * left unread and returns how to wait for them; a refused message's bytes are deleted.
 */
export async function queueIndexing(
  deps: { db: Db; organizationId: string; log: LogScope; attachmentIndex?: AttachmentIndexPort | undefined },
  input: { chatSessionId: string; attachments: NewAttachment[] },
  stored: boolean,
): Promise<{ ids: string[]; wait: IndexWait } | undefined> {
  const port = deps.attachmentIndex;
  const ids = input.attachments.filter((a) => a.indexLater).map((a) => a.id);
  if (!port || ids.length === 0) return undefined;
  if (!stored) {
    await port.discard(ids).catch((error) => log('warn', deps.log, 'attachment_discard_failed', { ids }, error));
    return undefined;
  }
  const wait = port.expect(ids);
  const { organizationId } = deps;
  try {
    await port.queue(ids.map((attachmentId) => ({ organizationId, attachmentId, chatSessionId: input.chatSessionId })));
  } catch (error) {
    log('warn', deps.log, 'attachment_index_queue_failed', { ids }, error);
    // Not queued: FAILED now, rather than PENDING for ever (the request's chunks stay). The reply
    // goes on either way: a failed mark is only logged.
    for (const id of ids) {
      await failAttachmentIndex(deps.db, organizationId, id).catch((failure) =>
        log('warn', deps.log, 'attachment_index_mark_failed', { id }, failure),
      );
    }
    return undefined;
  }
  return { ids, wait };
}

/** Waits for the queue (at most `timeoutMs`); what the reply's metadata reports about it. */
export async function awaitIndexing(
  queued: { ids: string[]; wait: IndexWait },
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<IndexingReport> {
  const started = Date.now();
  const pending = await queued.wait(timeoutMs, signal);
  return { attachments: queued.ids, pending, waitedMs: Date.now() - started };
}
