import { neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import type { Env } from '../env';
import { isLoopbackUrl } from '../loopback';
import * as schema from './schema';

export type Db = ReturnType<typeof createDb>;

/** The header carrying LOCAL_DEV_SECRET to the local SQL endpoint (dev/sql-server.ts checks it). */
export const LOCAL_SECRET_HEADER = 'x-local-dev-secret';

/**
 * A database client for one request. The Neon HTTP driver is stateless (one fetch per query or
 * batch, each batch one transaction), so there is nothing to keep open or close between requests,
 * and nothing may live at module scope.
 */
export function createDb(env: Pick<Env, 'DATABASE_URL' | 'LOCAL_SQL_ENDPOINT' | 'LOCAL_DEV_SECRET'>) {
  const endpoint = localSqlEndpoint(env);
  // neonConfig is global to the isolate: only local development and tests point it elsewhere (and
  // only at this machine), so a production Worker always keeps Neon's defaults.
  if (endpoint) {
    const secret = env.LOCAL_DEV_SECRET ?? '';
    neonConfig.fetchEndpoint = () => endpoint;
    // The driver's own headers (connection string, modes) plus the per-start secret of `npm run dev`.
    neonConfig.fetchFunction = (url: string, init: RequestInit) =>
      fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), [LOCAL_SECRET_HEADER]: secret } });
  } else {
    // Back to the driver's defaults (Neon's endpoint for the connection string's host, global fetch).
    neonConfig.fetchEndpoint = undefined as never;
    neonConfig.fetchFunction = undefined;
  }
  return drizzle({ client: neon(env.DATABASE_URL), schema });
}

/**
 * LOCAL_SQL_ENDPOINT, honoured only when it points at this machine (127.0.0.0/8, ::1, localhost).
 * Set by mistake in production to any other address, it would receive every query and the Neon
 * password (the driver sends the connection string as a header): there it is ignored.
 */
export function localSqlEndpoint(env: Pick<Env, 'LOCAL_SQL_ENDPOINT'>): string | undefined {
  const endpoint = env.LOCAL_SQL_ENDPOINT;
  return endpoint && isLoopbackUrl(endpoint) ? endpoint : undefined;
}

type RawQuery = ReturnType<Db['execute']>;
export type RawResult = { rows: Record<string, unknown>[] };

/** Runs raw statements as one transaction in one round trip (a Neon HTTP batch). */
export async function batchRaw(db: Db, queries: RawQuery[]): Promise<RawResult[]> {
  const [first, ...rest] = queries;
  if (!first) return [];
  return db.batch([first, ...rest]);
}
