import pg from 'pg';
import { assertRunning, onCleanup } from './cleanup.ts';

/** The machine's PostgreSQL; BENCH_POSTGRES_URL moves it. */
export const serverUrl = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Whether the server answers at all; the PostgreSQL parts are skipped (and say so) when not. */
export async function postgresVersion(): Promise<string | undefined> {
  try {
    return await withClient(serverUrl, async (c) => (await c.query('show server_version')).rows[0]?.server_version);
  } catch {
    return undefined;
  }
}

/** A throwaway database on the server, dropped at cleanup (also after a failure). */
export async function createThrowawayDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  assertRunning();
  const name = `persona_bench_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  // The drop is registered first and waits for the creation: an interrupt while the database is
  // being created still drops it.
  const creating = withClient(serverUrl, (c) => c.query(`create database ${name}`));
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await creating.catch(() => {});
    await withClient(serverUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
  };
  onCleanup(`drop database ${name}`, drop);
  await creating;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop };
}
