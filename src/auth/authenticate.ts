import type { Db } from '../db/client';
import { findApiKeyByHash, touchApiKey } from '../db/queries/api-keys';
import { AppError } from '../errors';
import { type LogScope, log } from '../log';
import { enforceRateLimit, type RateLimited } from '../rate-limit';
import { sha256Hex } from './keys';
import { assertNotThrottled, clientIp, isKnownUnknownKey, recordFailure, rememberUnknownKey } from './throttle';

export type Auth = { organizationId: string; apiKeyId: string };

type CacheEntry = { apiKeyId: string; organizationId: string; revoked: boolean; expiresAt: number };

/**
 * Per-isolate cache of verified keys, keyed by hash. It bounds how long a revoked key keeps working
 * in an isolate that had seen it (the TTL, 30 s by default), and it is what lets a warm request
 * skip the key lookup entirely. Unknown keys are not cached, so guessing cannot fill it.
 */
const cache = new Map<string, CacheEntry>();
const MAX_ENTRIES = 10_000;

export function forgetCachedKey(apiKeyId: string): void {
  for (const [hash, entry] of cache) if (entry.apiKeyId === apiKeyId) cache.delete(hash);
}

const MAX_KEY_LENGTH = 200;
const MAX_ORG_ID_LENGTH = 200;

type KeyDeps = {
  db: Db;
  /** AUTH_CACHE_TTL_SECONDS, in milliseconds. */
  ttlMs: number;
  failuresPerMinute: number;
  waitUntil: (promise: Promise<unknown>) => void;
  log: LogScope;
};

/** What authentication needs of the request context. */
type AuthRequest = RateLimited & {
  env: Record<string, unknown>;
  headers: Headers;
  db: Db;
  requestId: string;
  waitUntil: (promise: Promise<unknown>) => void;
};

function keyDeps(ctx: AuthRequest): KeyDeps {
  return {
    db: ctx.db,
    ttlMs: ctx.config.auth.cacheTtlMs,
    failuresPerMinute: ctx.config.auth.failuresPerMinute,
    waitUntil: ctx.waitUntil,
    log: { requestId: ctx.requestId, env: ctx.env },
  };
}

/** A presented key's organization and id, from the cache or one lookup by hash; throws when unknown or revoked. */
async function verifyKey(key: string, headers: Headers, deps: KeyDeps): Promise<CacheEntry> {
  const ip = clientIp(headers);
  if (key.length > MAX_KEY_LENGTH) {
    recordFailure(ip);
    throw new AppError('UNAUTHORIZED', 'Invalid API key.');
  }

  const hash = await sha256Hex(key);
  const now = Date.now();
  let entry = cache.get(hash);
  if (!entry || entry.expiresAt <= now) {
    // Guessing is refused before the lookup: an address with too many failures, a key known unknown.
    assertNotThrottled(ip, deps.failuresPerMinute, now);
    if (isKnownUnknownKey(hash, now)) {
      recordFailure(ip, now);
      throw new AppError('UNAUTHORIZED', 'Invalid API key.');
    }
    const row = await findApiKeyByHash(deps.db, hash);
    if (!row) {
      cache.delete(hash);
      rememberUnknownKey(hash, now);
      recordFailure(ip, now);
      throw new AppError('UNAUTHORIZED', 'Invalid API key.');
    }
    entry = {
      apiKeyId: row.id,
      organizationId: row.organizationId,
      revoked: row.revokedAt !== null,
      expiresAt: now + deps.ttlMs,
    };
    if (deps.ttlMs > 0) {
      if (cache.size >= MAX_ENTRIES) cache.clear();
      cache.set(hash, entry);
    }
    if (!entry.revoked) {
      // Last-used time: written off the request path, at most once per cache period per isolate.
      deps.waitUntil(
        touchApiKey(deps.db, row.organizationId, row.id).catch((error: unknown) => {
          log('warn', deps.log, 'api_key.touch_failed', { apiKeyId: row.id }, error);
        }),
      );
    }
  }
  if (entry.revoked) throw new AppError('UNAUTHORIZED', 'This API key has been revoked.');
  return entry;
}

export async function authenticate(headers: Headers, deps: KeyDeps): Promise<Auth> {
  const key = headers.get('x-api-key')?.trim();
  const organizationId = headers.get('x-organization-id')?.trim();
  if (!key) throw new AppError('UNAUTHORIZED', 'Missing API key: send it in the X-API-Key header.');
  if (!organizationId) {
    throw new AppError('UNAUTHORIZED', 'Missing organization: send its id in the X-Organization-ID header.');
  }
  if (key.length <= MAX_KEY_LENGTH && organizationId.length > MAX_ORG_ID_LENGTH) {
    throw new AppError('FORBIDDEN', 'This API key is not valid for the organization in X-Organization-ID.');
  }
  const entry = await verifyKey(key, headers, deps);
  if (entry.organizationId !== organizationId) {
    throw new AppError('FORBIDDEN', 'This API key is not valid for the organization in X-Organization-ID.');
  }
  return { organizationId: entry.organizationId, apiKeyId: entry.apiKeyId };
}

/** authenticate() with the request's own clients and settings, then the key's rate limit. */
export async function authenticateRequest(ctx: AuthRequest): Promise<Auth> {
  const auth = await authenticate(ctx.headers, keyDeps(ctx));
  await enforceRateLimit(ctx, auth.apiKeyId);
  return auth;
}

/**
 * For the OpenAI-compatible routes: the key as `Authorization: Bearer <key>`, the organization the
 * key's own (OpenAI clients send no organization header of ours), then the key's rate limit.
 */
export async function authenticateBearerRequest(ctx: AuthRequest): Promise<Auth> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.headers.get('authorization') ?? '');
  if (!match?.[1]) throw new AppError('UNAUTHORIZED', 'Missing API key: send it as Authorization: Bearer <key>.');
  const entry = await verifyKey(match[1], ctx.headers, keyDeps(ctx));
  await enforceRateLimit(ctx, entry.apiKeyId);
  return { organizationId: entry.organizationId, apiKeyId: entry.apiKeyId };
}
