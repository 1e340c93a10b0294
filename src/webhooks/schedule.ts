/**
 * When deliveries are retried: exponential backoff over about a day, then the delivery FAILS. Each
 * delay is a queue message's `delaySeconds` (Cloudflare Queues allow up to 12 hours).
 */
export const RETRY_DELAYS_SECONDS = [30, 120, 600, 1_800, 3_600, 7_200, 14_400, 28_800, 43_200] as const;

/** Attempts per delivery: the first and one per delay. Keep wrangler.toml's max_retries ≥ this. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/** An endpoint whose attempts have failed for this long without a success is disabled. */
export const DISABLE_AFTER_SECONDS = 24 * 60 * 60;

/** Seconds before the next attempt after `attempts` failed ones, or null when none is left. */
export function retryDelay(attempts: number): number | null {
  return attempts >= MAX_ATTEMPTS ? null : (RETRY_DELAYS_SECONDS[attempts - 1] ?? null);
}

/** A receiver gets this long to answer; slower is a failed attempt. */
export const ATTEMPT_TIMEOUT_MS = 15_000;

/** A PENDING delivery due this long ago was lost in flight; the sweeper sends it again. */
export const STALE_AFTER_SECONDS = 120;
