import type { KnowledgeJob } from './sources/job';
import type { WebhookJob } from './webhooks/job';

/**
 * Bindings the Worker receives. Secrets are set with `wrangler secret put`; locally `npm run dev`
 * passes them as vars. Everything optional has a documented default in the README. Code reads the
 * settings parsed (src/config.ts: `ctx.config`, `loadConfig(env)`), not these strings.
 */
export type Env = {
  /**
   * The per-session Durable Object that runs turns (wrangler.toml [[durable_objects.bindings]]).
   * Typed with its class in src/services/session-object.ts, so this base file does not import the object.
   */
  CHAT_SESSIONS: DurableObjectNamespace;
  /** Postgres connection string (Neon in production). Secret. */
  DATABASE_URL: string;
  /**
   * Local development and tests only: URL of a SQL-over-HTTP endpoint speaking Neon's protocol
   * (dev/sql-server.ts). Unset in production, where the Neon driver uses Neon's own endpoint.
   */
  LOCAL_SQL_ENDPOINT?: string;
  /**
   * Local development and tests only: the secret of this `npm run dev` start (random per start), sent
   * to the local SQL and demo endpoints, which refuse requests without it.
   */
  LOCAL_DEV_SECRET?: string;
  /**
   * "1" enables the built-in offline model when OPENAI_API_KEY is unset (`npm run dev` and tests set
   * it). Unset, a deployment without a provider key answers 503 naming the missing setting.
   */
  OFFLINE_MODEL?: string;
  /** Bearer token for the operator API under /admin. Secret; the admin API is off when unset. */
  ADMIN_TOKEN?: string;
  /** Provider key. Without it replies need OFFLINE_MODEL=1 (the built-in offline model). Secret. */
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
  /** Attachment limits; defaults and ranges in src/config.ts and the README. */
  ATTACHMENT_MAX_BYTES?: string;
  ATTACHMENTS_MAX_COUNT?: string;
  ATTACHMENTS_MAX_TOTAL_BYTES?: string;
  PDF_MAX_PAGES?: string;
  ATTACHMENT_MAX_CHARS?: string;
  ATTACHMENT_MAX_INDEXED_CHARS?: string;
  ATTACHMENT_CHUNK_MIN_CHARS?: string;
  ATTACHMENT_INDEX_WAIT_MS?: string;
  SOURCE_PDF_MAX_OPERATIONS?: string;
  SOURCE_PDF_MAX_MS?: string;
  PDF_MAX_STREAM_BYTES?: string;
  PDF_MAX_DECODED_BYTES?: string;
  PDF_MAX_OPERATIONS?: string;
  PDF_MAX_MS?: string;
  /** Knowledge sources (src/sources): original bytes, and the ingestion queue (wrangler.toml). */
  SOURCE_BLOBS?: R2Bucket;
  SOURCE_QUEUE?: Queue<KnowledgeJob>;
  /** Webhook deliveries (src/webhooks): one message per delivery attempt series (wrangler.toml). */
  WEBHOOK_QUEUE?: Queue<WebhookJob>;
  /** Knowledge-source limits; defaults and ranges in src/config.ts and the README. */
  SOURCES_MAX_PER_PERSONA?: string;
  SOURCE_MAX_BYTES?: string;
  SOURCES_MAX_TOTAL_BYTES?: string;
  SOURCE_MAX_PAGES?: string;
  SOURCE_MAX_CHARS?: string;
  /** "off" keeps retrieval full-text; "on" (default) embeds source chunks where pgvector exists. */
  EMBEDDINGS?: string;
  /** Embedding model on the OpenAI-compatible provider (default text-embedding-3-small, asked for 512 numbers). */
  EMBEDDING_MODEL?: string;
  /** Chunks of one source embedded at most (default 2000). */
  EMBEDDING_MAX_CHUNKS?: string;
  /** Tokens of retrieved passages a USER turn may add to the prompt (default: a quarter of CONTEXT_TOKEN_BUDGET). */
  KNOWLEDGE_TOKEN_BUDGET?: string;
  /** Largest request body under /api, bytes (default 14 MiB: 10 MiB of base64 attachments and their JSON). */
  MAX_BODY_BYTES?: string;
  /** Cloudflare Rate Limiting binding: requests per API key (wrangler.toml [[ratelimits]]). */
  API_RATE_LIMITER?: RateLimit;
  /** Requests per API key per minute where the binding is absent (local development, tests). */
  RATE_LIMIT_PER_MINUTE?: string;
  /** Model calls per organization per UTC day (organizations.daily_model_call_cap overrides it). */
  DAILY_MODEL_CALL_CAP?: string;
  /** Failed authentications (unknown API key, wrong admin token) per client IP per minute (default 20). */
  AUTH_FAILURES_PER_MINUTE?: string;
  /** Comma-separated origins allowed to call the API from a browser; none by default. */
  CORS_ORIGINS?: string;
  /**
   * Signs widget visitor tokens and derives each organization's identity secret (HMAC-SHA256 key,
   * at least 16 characters). Secret; the widget endpoints answer 404 while it is unset.
   */
  VISITOR_TOKEN_SECRET?: string;
  /** Seconds a widget visitor token is valid (default 86400: a visitor can come back the same day). */
  VISITOR_TOKEN_TTL_SECONDS?: string;
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
