import type { SourceJob } from './sources/job';

/**
 * Bindings the Worker receives. Secrets are set with `wrangler secret put`; locally `npm run dev`
 * passes them as vars. Everything optional has a documented default in the README.
 */
export type Env = {
  /** Postgres connection string (Neon in production). Secret. */
  DATABASE_URL: string;
  /**
   * Local development and tests only: URL of a SQL-over-HTTP endpoint speaking Neon's protocol
   * (dev/sql-server.ts). Unset in production, where the Neon driver uses Neon's own endpoint.
   */
  LOCAL_SQL_ENDPOINT?: string;
  /** Bearer token for the operator API under /admin. Secret; the admin API is off when unset. */
  ADMIN_TOKEN?: string;
  /** Provider key. Without it replies come from the built-in offline model. Secret. */
  OPENAI_API_KEY?: string;
  /** Any OpenAI-compatible server (Ollama, vLLM, llama.cpp, a proxy). */
  OPENAI_BASE_URL?: string;
  /** "responses" (OpenAI Responses API) or "chat" (Chat Completions). */
  OPENAI_API_STYLE?: string;
  /** Model used when a persona names none. */
  DEFAULT_MODEL?: string;
  /** Seconds a verified API key stays cached in an isolate (revocation delay upper bound). */
  AUTH_CACHE_TTL_SECONDS?: string;
  /** Milliseconds before a model call is abandoned (first token / between chunks). */
  MODEL_TIMEOUT_MS?: string;
  /** Retries of a failed model call before the first token (429, 5xx, network). */
  MODEL_MAX_RETRIES?: string;
  /** Token budget for the history sent to the model. */
  CONTEXT_TOKEN_BUDGET?: string;
  /** Attachment limits; defaults in src/attachments/limits.ts and the README. */
  ATTACHMENT_MAX_BYTES?: string;
  ATTACHMENTS_MAX_COUNT?: string;
  ATTACHMENTS_MAX_TOTAL_BYTES?: string;
  PDF_MAX_PAGES?: string;
  ATTACHMENT_MAX_CHARS?: string;
  /** Knowledge sources (src/sources): original bytes, and the ingestion queue (wrangler.toml). */
  SOURCE_BLOBS?: R2Bucket;
  SOURCE_QUEUE?: Queue<SourceJob>;
  /** Knowledge-source limits; defaults in src/sources/limits.ts and the README. */
  SOURCES_MAX_PER_PERSONA?: string;
  SOURCE_MAX_BYTES?: string;
  SOURCES_MAX_TOTAL_BYTES?: string;
  SOURCE_MAX_PAGES?: string;
  SOURCE_MAX_CHARS?: string;
  /** Tokens of retrieved passages a USER turn may add to the prompt (default: a quarter of CONTEXT_TOKEN_BUDGET). */
  KNOWLEDGE_TOKEN_BUDGET?: string;
  /** Largest request body under /api, bytes (default 28 MiB: 20 MiB of base64 attachments and their JSON). */
  MAX_BODY_BYTES?: string;
  /** Cloudflare Rate Limiting binding: requests per API key (wrangler.toml [[ratelimits]]). */
  API_RATE_LIMITER?: RateLimit;
  /** Requests per API key per minute where the binding is absent (local development, tests). */
  RATE_LIMIT_PER_MINUTE?: string;
  /** Model calls per organization per UTC day (organizations.daily_model_call_cap overrides it). */
  DAILY_MODEL_CALL_CAP?: string;
  /** Comma-separated origins allowed to call the API from a browser; none by default. */
  CORS_ORIGINS?: string;
  /**
   * Idle-session archival (src/scheduled/archive-idle-sessions.ts). Days without activity after which
   * an ACTIVE session is archived (default 30); an organization's `idle_archive_days` overrides it.
   */
  ARCHIVE_IDLE_DAYS?: string;
  /** Sessions archived per statement (default 500). */
  ARCHIVE_BATCH_SIZE?: string;
  /** Statements per cron run at most (default 20); what remains waits for the next run. */
  ARCHIVE_MAX_BATCHES?: string;
};

/** Reads an integer setting, falling back when unset or malformed. */
export function intSetting(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
}
