import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { DATABASE_RETRY_AFTER_SECONDS } from '../errors';
import type { HonoEnv } from '../hono-env';
import { log } from '../log';

/** Liveness plus a real database round trip, so a broken DATABASE_URL shows up here first. */
export const healthRoutes = new Hono<HonoEnv>().get('/health', async (c) => {
  const started = Date.now();
  try {
    await c.var.db.execute(sql`select 1`);
    return c.json({ status: 'ok', database: 'ok', latencyMs: Date.now() - started });
  } catch (error) {
    log('error', { requestId: c.var.requestId, env: c.env }, 'health.database_unreachable', {}, error);
    return c.json({ status: 'error', database: 'unreachable' }, 503, {
      'retry-after': String(DATABASE_RETRY_AFTER_SECONDS),
    });
  }
});
