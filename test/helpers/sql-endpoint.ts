import { env } from 'cloudflare:workers';

/** Straight to the local SQL endpoint (dev/sql-server.ts), as the Neon driver would call it. */
export function sqlRequest(
  body: string | object,
  options: { connectionString?: string | null; secret?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const connectionString = options.connectionString === undefined ? env.DATABASE_URL : options.connectionString;
  if (connectionString !== null) headers['neon-connection-string'] = connectionString;
  const secret = options.secret === undefined ? env.LOCAL_DEV_SECRET : options.secret;
  if (secret) headers['x-local-dev-secret'] = secret;
  return fetch(env.LOCAL_SQL_ENDPOINT ?? '', {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A database URL whose requests the endpoint can be told to fail (test-only outages, by user). */
export function outageDatabaseUrl(user: string): string {
  const url = new URL(env.DATABASE_URL);
  url.username = user;
  return url.toString();
}

/** Makes the endpoint fail every request naming `user` ("refuse": Neon's 500; "drop": reset), or stop. */
export async function setOutage(user: string, mode: 'refuse' | 'drop' | null): Promise<void> {
  const url = new URL(env.LOCAL_SQL_ENDPOINT ?? '');
  url.pathname = '/control/outage';
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-local-dev-secret': env.LOCAL_DEV_SECRET ?? '' },
    body: JSON.stringify({ user, mode }),
  });
  if (!res.ok) throw new Error(`setOutage: HTTP ${res.status}`);
}

/** Users whose outage a test staged, ended by endOutages() even when the test failed first. */
const staged = new Set<string>();

/** setOutage, remembered so endOutages() can end it. */
export async function stageOutage(user: string, mode: 'refuse' | 'drop'): Promise<void> {
  staged.add(user);
  await setOutage(user, mode);
}

/** A database URL of this test's own (a fresh user), so it can stop "the database" for itself alone. */
export function isolatedDatabase(label: string): { user: string; url: string } {
  const user = `${label}_${crypto.randomUUID().slice(0, 8)}`;
  staged.add(user);
  return { user, url: outageDatabaseUrl(user) };
}

/** Ends every outage staged so far (for afterEach). */
export async function endOutages(): Promise<void> {
  for (const user of [...staged]) {
    staged.delete(user);
    await setOutage(user, null);
  }
}
