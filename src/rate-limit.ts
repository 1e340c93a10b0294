import type { Config } from './config';
import type { Env } from './env';
import { AppError } from './errors';

/**
 * Per-API-key request rate limiting. In production, Cloudflare's Rate Limiting binding
 * (API_RATE_LIMITER in wrangler.toml: its `simple.limit` per `simple.period` seconds) counts
 * across the whole network. Where the binding is absent, an in-isolate fixed window of
 * RATE_LIMIT_PER_MINUTE requests stands in, so the behaviour is the same locally and testable.
 */
const windows = new Map<string, { start: number; count: number }>();
const WINDOW_MS = 60_000;
const MAX_TRACKED = 50_000;

/** What the limit needs of a request: the binding (if any) and RATE_LIMIT_PER_MINUTE. */
export type RateLimited = { env: Pick<Env, 'API_RATE_LIMITER'>; config: Config };

export async function enforceRateLimit(ctx: RateLimited, apiKeyId: string): Promise<void> {
  const binding = ctx.env.API_RATE_LIMITER;
  if (binding) {
    const { success } = await binding.limit({ key: apiKeyId });
    // The binding does not say when its window ends; its period is at most 60 s.
    if (!success) throw tooMany(60);
    return;
  }
  const limit = ctx.config.limits.rateLimitPerMinute;
  const now = Date.now();
  let window = windows.get(apiKeyId);
  if (!window || now - window.start >= WINDOW_MS) {
    if (windows.size >= MAX_TRACKED) windows.clear();
    window = { start: now, count: 0 };
    windows.set(apiKeyId, window);
  }
  window.count++;
  if (window.count > limit) throw tooMany(Math.ceil((window.start + WINDOW_MS - now) / 1000));
}

function tooMany(retryAfter: number): AppError {
  return new AppError('RATE_LIMITED', `Too many requests for this API key; retry in ${retryAfter} s.`, {
    retryAfter,
  });
}
