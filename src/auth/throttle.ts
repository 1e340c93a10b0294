import { AppError } from '../errors';

/**
 * Failed credentials (unknown API keys, wrong admin tokens) are throttled before any database
 * lookup, so guessing costs the guesser and not the database:
 *  - a per-IP window (CF-Connecting-IP, set by Cloudflare on every request): after
 *    AUTH_FAILURES_PER_MINUTE failures from one address, its requests with credentials get 429 and
 *    Retry-After until the window ends, without a lookup;
 *  - a negative cache of unknown key hashes: the same wrong key again is refused from memory.
 * Both are per-isolate caches (bounded; cleared when full): they bound the database work an isolate
 * does for a guesser, which is what they are for, not an exact count across the network.
 */
const WINDOW_MS = 60_000;
const MAX_TRACKED_IPS = 50_000;
const UNKNOWN_KEY_TTL_MS = 60_000;
const MAX_UNKNOWN_KEYS = 10_000;

const failures = new Map<string, { start: number; count: number }>();
const unknownKeys = new Map<string, number>();

/** The caller's address as Cloudflare reports it; one shared bucket where it is absent (local runs). */
export function clientIp(headers: Headers): string {
  return headers.get('cf-connecting-ip')?.trim().slice(0, 64) || 'unknown';
}

/**
 * Refuses (429) an address that has failed `failuresPerMinute` times (AUTH_FAILURES_PER_MINUTE,
 * config.auth.failuresPerMinute) in this window. Call before any lookup.
 */
export function assertNotThrottled(ip: string, failuresPerMinute: number, now = Date.now()): void {
  const window = failures.get(ip);
  if (!window || now - window.start >= WINDOW_MS) return;
  if (window.count >= failuresPerMinute) {
    const retryAfter = Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000));
    throw new AppError('RATE_LIMITED', `Too many failed authentication attempts; retry in ${retryAfter} s.`, {
      retryAfter,
    });
  }
}

export function recordFailure(ip: string, now = Date.now()): void {
  let window = failures.get(ip);
  if (!window || now - window.start >= WINDOW_MS) {
    if (failures.size >= MAX_TRACKED_IPS) failures.clear();
    window = { start: now, count: 0 };
    failures.set(ip, window);
  }
  window.count++;
}

/** True when this key hash was looked up and not found within the last minute. */
export function isKnownUnknownKey(hash: string, now = Date.now()): boolean {
  const expires = unknownKeys.get(hash);
  if (expires === undefined) return false;
  if (expires > now) return true;
  unknownKeys.delete(hash);
  return false;
}

export function rememberUnknownKey(hash: string, now = Date.now()): void {
  if (unknownKeys.size >= MAX_UNKNOWN_KEYS) unknownKeys.clear();
  unknownKeys.set(hash, now + UNKNOWN_KEY_TTL_MS);
}
