import type { Context as HonoContext } from 'hono';
import type { Context } from './context';
import type { HonoEnv } from './hono-env';

function waitUntilOf(c: HonoContext<HonoEnv>): (promise: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    // app.request() without an execution context (unit use): keep the promise from floating.
    return (promise) => void promise.catch(() => {});
  }
}

/** What every handler gets, tRPC procedures and plain routes alike. */
export function requestContext(c: HonoContext<HonoEnv>): Context {
  return {
    env: c.env,
    config: c.var.config,
    requestId: c.var.requestId,
    db: c.var.db,
    services: c.var.services,
    headers: c.req.raw.headers,
    waitUntil: waitUntilOf(c),
    signal: c.req.raw.signal,
  };
}
