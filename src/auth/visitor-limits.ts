import { AppError } from '../errors';

/**
 * Fixed one-minute windows counted in this isolate, for the widget's per-visitor and per-IP limits.
 * Cloudflare's Rate Limiting binding has one fixed limit per binding, while these limits are set per
 * publishable key, so they are counted here: a visitor spread over many isolates gets up to the limit
 * in each (the per-key limit, counted network-wide by API_RATE_LIMITER, still caps the total). The map
 * is the documented module-scope cache: bounded, cleared whole when full.
 */
const windows = new Map<string, { start: number; count: number }>();
const WINDOW_MS = 60_000;
const MAX_TRACKED = 50_000;

export function enforceWindow(bucket: string, limit: number, what: string, now = Date.now()): void {
  let window = windows.get(bucket);
  if (!window || now - window.start >= WINDOW_MS) {
    if (windows.size >= MAX_TRACKED) windows.clear();
    window = { start: now, count: 0 };
    windows.set(bucket, window);
  }
  window.count++;
  if (window.count > limit) {
    const retryAfter = Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000));
    throw new AppError('RATE_LIMITED', `Too many ${what}; retry in ${retryAfter} s.`, { retryAfter });
  }
}

/** Seconds until the next UTC midnight, when daily caps reset. */
export function secondsUntilUtcMidnight(now = Date.now()): number {
  const midnight = new Date(now);
  midnight.setUTCHours(24, 0, 0, 0);
  return Math.max(1, Math.ceil((midnight.getTime() - now) / 1000));
}
