/** The ingestion queue's message: which source to parse, chunk and index. Ids only, never bytes. */
export type SourceJob = { organizationId: string; sourceId: string };

/** Queue deliveries of one job before it goes to the dead-letter queue (wrangler.toml max_retries + 1). */
export const SOURCE_JOB_MAX_ATTEMPTS = 4;
