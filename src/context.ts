import type { Auth } from './auth/authenticate';
import type { PublishableAuth } from './auth/publishable';
import type { VisitorClaims } from './auth/visitor-token';
import type { Config } from './config';
import type { Db } from './db/client';
import type { Env } from './env';
import type { Services } from './services';

/**
 * What every handler gets (tRPC procedures, Hono routes, services): the base type of the request
 * layer, so nothing below it imports from tRPC or Hono. Built per request in request-context.ts.
 */
export type Context = {
  env: Env;
  /** Settings parsed once from env (src/config.ts). */
  config: Config;
  /** Hono's request id: in the X-Request-Id header, every error body and every log line. */
  requestId: string;
  db: Db;
  headers: Headers;
  services: Services;
  waitUntil: (promise: Promise<unknown>) => void;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
  /**
   * Set under /widget/v1/<key>/trpc (src/routes/widget.ts): the publishable key from the path and the
   * page's origin (see pageOrigin in src/auth/publishable.ts).
   */
  widget?: { key: string; origin: string | null };
};

/** `publishable` and `visitor` are set when a widget visitor calls (src/auth/publishable.ts). */
export type AuthedContext = Context & { auth: Auth; publishable?: PublishableAuth; visitor?: VisitorClaims };
