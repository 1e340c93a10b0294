import { z } from 'zod';

/**
 * The variables, as written in wrangler.toml / `wrangler secret put` / `.dev.vars`, each with its
 * default and its range: the one place they are defined. src/config.ts groups them for code;
 * dev/settings.ts checks `npm run dev`'s settings with the same schema (this file imports only zod,
 * so Node runs it as is).
 */

/** Shorter admin tokens can be guessed: the admin API refuses to run with one, and `npm run dev` to start. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

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
        .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
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
        .pipe(
          z.array(
            z.string().regex(/^https?:\/\/[^/\s]+$/, 'expected comma-separated origins like https://app.example.com'),
          ),
        )
        .optional(),
    )
    .transform((list) => list ?? []);

const flag = () =>
  z.preprocess(unset, z.enum(['1'], { error: 'expected 1 (or unset)' }).optional()).transform((v) => v === '1');

/** The variables, as written in wrangler.toml / `wrangler secret put` / `.dev.vars`. */
export const settingsSchema = z.object({
  OPENAI_API_KEY: text(),
  OPENAI_BASE_URL: url(),
  OPENAI_API_STYLE: z
    .preprocess(unset, z.enum(['responses', 'chat'], { error: 'expected one of responses, chat' }).optional())
    .transform((v) => v ?? 'responses'),
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
  // A PDF the request could not read to the end is indexed whole on the ingestion queue; the turn
  // that sent it waits this long for that before retrieving (0: never waits; later turns still see it).
  ATTACHMENT_INDEX_WAIT_MS: int(30_000, 0),
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
  // The ingestion queue's PDF budget (sources, and attachments read whole): the same meters as
  // PDF_MAX_OPERATIONS / PDF_MAX_MS, larger because no request waits on it. Measured: the 117-page
  // fixture needs 25–30 million (3.4 s); nested forms spend 40 million in about 12 s, inside a
  // queue invocation's 30 s of CPU (one document per invocation: wrangler.toml max_batch_size).
  SOURCE_PDF_MAX_OPERATIONS: int(40_000_000, 1),
  SOURCE_PDF_MAX_MS: int(20_000, 1),
  // Embeddings (issue 17): hybrid retrieval where pgvector exists; "off" keeps retrieval full-text.
  EMBEDDINGS: z
    .preprocess(unset, z.enum(['on', 'off'], { error: 'expected one of on, off' }).optional())
    .transform((v) => (v ?? 'on') === 'on'),
  EMBEDDING_MODEL: z.preprocess(unset, z.string().optional()).transform((v) => v ?? 'text-embedding-3-small'),
  // Chunks of one source embedded at most (64 per call); the rest are found by full-text only.
  EMBEDDING_MAX_CHUNKS: int(2_000, 0),
});

export type SettingName = keyof typeof settingsSchema.shape;

/** Why each malformed setting is refused, one line per setting; empty when all are valid. */
export function settingProblems(env: Partial<Record<string, unknown>>): string[] {
  const result = settingsSchema.safeParse(env);
  return result.success ? [] : problemsOf(result.error);
}

export function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${String(issue.path[0] ?? '?')}: ${issue.message}`);
}
