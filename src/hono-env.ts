import type { RequestIdVariables } from 'hono/request-id';
import type { Config } from './config';
import type { Db } from './db/client';
import type { Env } from './env';
import type { Services } from './services';

/** The Hono app's typing: bindings from wrangler, per-request clients in `c.var`. */
export type HonoEnv = {
  Bindings: Env;
  Variables: RequestIdVariables & { config: Config; db: Db; services: Services };
};
