import type { Auth } from '../auth/authenticate';
import type { Db } from '../db/client';
import type { Env } from '../env';
import type { Services } from '../services';

/** What every procedure gets. Built per request in app.ts; tests build it the same way. */
export type Context = {
  env: Env;
  db: Db;
  headers: Headers;
  services: Services;
  waitUntil: (promise: Promise<unknown>) => void;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
};

export type AuthedContext = Context & { auth: Auth };
