/** The ingestion queue's message for a knowledge source: which one to parse, chunk and index. Ids only, never bytes. */
export type SourceJob = { organizationId: string; sourceId: string };

/**
 * The same queue's message for a message attachment the request could not read to the end
 * (services/attachment-index.ts): its session is named so the turn waiting for it can be told.
 */
export type AttachmentJob = { organizationId: string; attachmentId: string; chatSessionId: string };

export type KnowledgeJob = SourceJob | AttachmentJob;

/** Queue deliveries of one job before it goes to the dead-letter queue (wrangler.toml max_retries + 1). */
export const SOURCE_JOB_MAX_ATTEMPTS = 4;

/** Where an attachment's bytes wait in the sources' R2 bucket until the queue has indexed them. */
export function attachmentBlobKey(organizationId: string, attachmentId: string): string {
  return `attachments/${organizationId}/${attachmentId}`;
}

/** The job a queue message carries, or undefined when it is malformed. */
export function asKnowledgeJob(body: unknown): KnowledgeJob | undefined {
  const b = body as Partial<SourceJob & AttachmentJob> | null;
  if (typeof b?.organizationId !== 'string') return undefined;
  if (typeof b.sourceId === 'string') return { organizationId: b.organizationId, sourceId: b.sourceId };
  if (typeof b.attachmentId === 'string' && typeof b.chatSessionId === 'string') {
    return { organizationId: b.organizationId, attachmentId: b.attachmentId, chatSessionId: b.chatSessionId };
  }
  return undefined;
}
