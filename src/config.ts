import type { z } from 'zod';
import type { Env } from './env';
import { AppError } from './errors';
import { problemsOf, settingsSchema } from './settings';

export { type SettingName, settingProblems, settingsSchema } from './settings';

/**
 * Every setting the Worker reads, parsed once from `env` with its default and its range (the schema is
 * src/settings.ts, which `npm run dev`'s checks in dev/settings.ts read too); nothing else parses a setting. A malformed value is refused with the setting's name (NOT_CONFIGURED,
 * 503) instead of silently falling back, so a typo in production shows at once.
 */

/** The token estimate used everywhere a length must be turned into tokens (history, attachments, usage). */
export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

type Settings = z.output<typeof settingsSchema>;

/** What code reads: settings grouped by the part of the product that uses them. */
export type Config = ReturnType<typeof fromSettings>;

function fromSettings(s: Settings) {
  return {
    model: {
      apiKey: s.OPENAI_API_KEY,
      baseUrl: s.OPENAI_BASE_URL,
      apiStyle: s.OPENAI_API_STYLE,
      defaultModel: s.DEFAULT_MODEL,
      offline: s.OFFLINE_MODEL,
      timeoutMs: s.MODEL_TIMEOUT_MS,
      maxRetries: s.MODEL_MAX_RETRIES,
    },
    context: {
      /** Tokens of history (and attachments) sent to the model. */
      tokenBudget: s.CONTEXT_TOKEN_BUDGET,
      /** Tokens of retrieved passages a USER turn may add. */
      knowledgeTokenBudget: s.KNOWLEDGE_TOKEN_BUDGET ?? Math.floor(s.CONTEXT_TOKEN_BUDGET / 4),
    },
    auth: {
      cacheTtlMs: s.AUTH_CACHE_TTL_SECONDS * 1000,
      failuresPerMinute: s.AUTH_FAILURES_PER_MINUTE,
      visitorTokenSecret: s.VISITOR_TOKEN_SECRET,
      visitorTokenTtlSeconds: s.VISITOR_TOKEN_TTL_SECONDS,
    },
    limits: {
      rateLimitPerMinute: s.RATE_LIMIT_PER_MINUTE,
      dailyModelCalls: s.DAILY_MODEL_CALL_CAP,
      maxBodyBytes: s.MAX_BODY_BYTES,
    },
    corsOrigins: s.CORS_ORIGINS,
    archive: {
      idleDays: s.ARCHIVE_IDLE_DAYS,
      batchSize: s.ARCHIVE_BATCH_SIZE,
      maxBatches: s.ARCHIVE_MAX_BATCHES,
      // Well inside the 15-minute schedule, so runs rarely overlap and the database load stays bounded.
      timeBudgetMs: 20_000,
    },
    attachments: {
      maxBytes: s.ATTACHMENT_MAX_BYTES,
      maxCount: s.ATTACHMENTS_MAX_COUNT,
      maxTotalBytes: s.ATTACHMENTS_MAX_TOTAL_BYTES,
      maxPdfPages: s.PDF_MAX_PAGES,
      maxChars: s.ATTACHMENT_MAX_CHARS,
      maxIndexedChars: s.ATTACHMENT_MAX_INDEXED_CHARS,
      chunkMinChars: s.ATTACHMENT_CHUNK_MIN_CHARS,
      indexWaitMs: s.ATTACHMENT_INDEX_WAIT_MS,
      maxPdfStreamBytes: s.PDF_MAX_STREAM_BYTES,
      maxPdfDecodedBytes: s.PDF_MAX_DECODED_BYTES,
      maxPdfOperations: s.PDF_MAX_OPERATIONS,
      maxPdfMs: s.PDF_MAX_MS,
    },
    sources: {
      maxPerPersona: s.SOURCES_MAX_PER_PERSONA,
      maxBytes: s.SOURCE_MAX_BYTES,
      maxTotalBytes: s.SOURCES_MAX_TOTAL_BYTES,
      maxPages: s.SOURCE_MAX_PAGES,
      maxChars: s.SOURCE_MAX_CHARS,
      maxPdfOperations: s.SOURCE_PDF_MAX_OPERATIONS,
      maxPdfMs: s.SOURCE_PDF_MAX_MS,
      // Memory, not time: the same stream limits as inside a request (the isolate is as small).
      maxPdfStreamBytes: s.PDF_MAX_STREAM_BYTES,
      maxPdfDecodedBytes: s.PDF_MAX_DECODED_BYTES,
    },
    embeddings: {
      enabled: s.EMBEDDINGS,
      model: s.EMBEDDING_MODEL,
      maxChunksPerSource: s.EMBEDDING_MAX_CHUNKS,
    },
  };
}

export type AttachmentLimits = Config['attachments'];
export type SourceLimits = Config['sources'];
export type ArchiveSettings = Config['archive'];

/** Parsed configs by env object: workerd hands every request of an isolate the same `env`. */
const cache = new WeakMap<object, Config>();

/** The config for this `env`, parsed once; a malformed setting is a 503 naming it. */
export function loadConfig(env: Env | Partial<Record<string, unknown>>): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const result = settingsSchema.safeParse(env);
  if (!result.success) {
    throw new AppError('NOT_CONFIGURED', `The server is misconfigured: ${problemsOf(result.error).join('; ')}.`);
  }
  const config = fromSettings(result.data);
  cache.set(env, config);
  return config;
}

/** The defaults, as a deployment with no settings gets them (README table, tests, bench). */
export const DEFAULT_CONFIG: Config = fromSettings(settingsSchema.parse({}));
