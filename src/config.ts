import { z } from 'zod';
import type { Env } from './env';
import { AppError } from './errors';

/**
 * Every setting the Worker reads, parsed once from `env` with its default and its range. The README's
 * configuration table, `npm run dev`'s checks (dev/settings.ts) and the code all read this file;
 * nothing else parses a setting. A malformed value is refused with the setting's name (NOT_CONFIGURED,
 * 503) instead of silently falling back, so a typo in production shows at once.
 */

/** The token estimate used everywhere a length must be turned into tokens (history, attachments, usage). */
export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** An unset or blank variable means "use the default". */
const unset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .preprocess(
      unset,
      z
        .string()
        .regex(/^\s*\d+\s*$/, 'expected a whole number')
        .transform(Number)
        .pipe(z.number().min(min).max(max))
        .optional(),
    )
    .transform((n) => n ?? fallback);

const text = () => z.preprocess(unset, z.string().optional());

const url = () =>
  z.preprocess(
    unset,
    z
      .string()
      .refine((v) => /^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v), 'expected an http(s) URL')
      .optional(),
  );

const origins = () =>
  z
    .preprocess(
      unset,
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean),
        )
        .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'expected origins like https://app.example.com')))
        .optional(),
    )
    .transform((list) => list ?? []);

const flag = () => z.preprocess(unset, z.enum(['1']).optional()).transform((v) => v === '1');

/** The variables, as written in wrangler.toml / `wrangler secret put` / `.dev.vars`. */
export const settingsSchema = z.object({
  OPENAI_API_KEY: text(),
  OPENAI_BASE_URL: url(),
  OPENAI_API_STYLE: z.preprocess(unset, z.enum(['responses', 'chat']).optional()).transform((v) => v ?? 'responses'),
  DEFAULT_MODEL: text(),
  OFFLINE_MODEL: flag(),
  MODEL_TIMEOUT_MS: int(60_000, 1),
  MODEL_MAX_RETRIES: int(2, 0, 10),
  CONTEXT_TOKEN_BUDGET: int(16_000, 1),
  /** Unset: a quarter of CONTEXT_TOKEN_BUDGET (resolved in loadConfig). */
  KNOWLEDGE_TOKEN_BUDGET: z.preprocess(
    unset,
    z
      .string()
      .regex(/^\s*\d+\s*$/, 'expected a whole number')
      .transform(Number)
      .optional(),
  ),
  AUTH_CACHE_TTL_SECONDS: int(30, 0),
  AUTH_FAILURES_PER_MINUTE: int(20, 1),
  RATE_LIMIT_PER_MINUTE: int(600, 1),
  DAILY_MODEL_CALL_CAP: int(5_000, 0),
  // 10 MiB of attachments as base64 (13.3 MiB) plus the JSON around them. The body and its parsed
  // copy alone take twice this in a 128 MB isolate (bench section 7).
  MAX_BODY_BYTES: int(14 * 1024 * 1024, 1),
  CORS_ORIGINS: origins(),
  VISITOR_TOKEN_SECRET: text(),
  VISITOR_TOKEN_TTL_SECONDS: int(24 * 60 * 60, 60),
  ARCHIVE_IDLE_DAYS: int(30, 1),
  ARCHIVE_BATCH_SIZE: int(500, 1),
  ARCHIVE_MAX_BATCHES: int(20, 1),
  ATTACHMENT_MAX_BYTES: int(10 * 1024 * 1024, 1),
  ATTACHMENTS_MAX_COUNT: int(5, 0, 20),
  // 10 MiB per message (was 20): with the body and its parsed copy, two 10 MiB files did not fit a
  // 128 MB isolate (bench section 7).
  ATTACHMENTS_MAX_TOTAL_BYTES: int(10 * 1024 * 1024, 1),
  PDF_MAX_PAGES: int(100, 1),
  ATTACHMENT_MAX_CHARS: int(100_000, 1),
  // Characters of a large attachment chunked for retrieval beyond ATTACHMENT_MAX_CHARS; 0 turns
  // chunking off. Bounds the chunks' share of the turn's statement (Neon takes ≤ 10 MiB of JSON).
  ATTACHMENT_MAX_INDEXED_CHARS: int(300_000, 0),
  ATTACHMENT_CHUNK_MIN_CHARS: int(8_000, 1),
  // pdf.js holds a page's decoded content streams at once, at about 2.5× their size (bench section 7).
  PDF_MAX_STREAM_BYTES: int(8 * 1024 * 1024, 1),
  PDF_MAX_DECODED_BYTES: int(24 * 1024 * 1024, 1),
  PDF_MAX_OPERATIONS: int(3_000_000, 1),
  PDF_MAX_MS: int(10_000, 1),
  SOURCES_MAX_PER_PERSONA: int(50, 1),
  SOURCE_MAX_BYTES: int(10 * 1024 * 1024, 1),
  SOURCES_MAX_TOTAL_BYTES: int(200 * 1024 * 1024, 1),
  SOURCE_MAX_PAGES: int(500, 1),
  SOURCE_MAX_CHARS: int(1_000_000, 1),
});

export type SettingName = keyof typeof settingsSchema.shape;
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
    },
  };
}

export type AttachmentLimits = Config['attachments'];
export type SourceLimits = Config['sources'];
export type ArchiveSettings = Config['archive'];

/** Why each malformed setting is refused, one line per setting; empty when all are valid. */
export function settingProblems(env: Partial<Record<string, unknown>>): string[] {
  const result = settingsSchema.safeParse(env);
  return result.success ? [] : problemsOf(result.error);
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${String(issue.path[0] ?? '?')}: ${issue.message}`);
}

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
