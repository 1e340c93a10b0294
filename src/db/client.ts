import { neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import type { Env } from '../env';
import * as schema from './schema';

export type Db = ReturnType<typeof createDb>;

/**
 * A database client for one request. The Neon HTTP driver is stateless (one fetch per query or
 * batch, each batch one transaction), so there is nothing to keep open or close between requests,
 * and nothing may live at module scope.
 */
export function createDb(env: Pick<Env, 'DATABASE_URL' | 'LOCAL_SQL_ENDPOINT'>) {
  const endpoint = env.LOCAL_SQL_ENDPOINT;
  // neonConfig is global to the isolate: only local development and tests point it elsewhere, so a
  // production Worker always keeps Neon's defaults.
  if (endpoint) neonConfig.fetchEndpoint = () => endpoint;
  return drizzle({ client: neon(env.DATABASE_URL), schema });
}

type RawQuery = ReturnType<Db['execute']>;
export type RawResult = { rows: Record<string, unknown>[] };

/** Runs raw statements as one transaction in one round trip (a Neon HTTP batch). */
export async function batchRaw(db: Db, queries: RawQuery[]): Promise<RawResult[]> {
  const [first, ...rest] = queries;
  if (!first) return [];
  return (await db.batch([first, ...rest])) as unknown as RawResult[];
}
