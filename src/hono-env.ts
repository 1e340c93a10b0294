import type { Db } from './db/client';
import type { Env } from './env';
import type { Services } from './services';

/** The Hono app's typing: bindings from wrangler, per-request clients in `c.var`. */
export type HonoEnv = {
  Bindings: Env;
  Variables: { db: Db; services: Services };
};
