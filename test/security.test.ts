import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDb } from '../src/db/client';
import { authHeaders, createTenant, data, mutate, request } from './helpers/api';
import { conversation } from './helpers/factories';

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
  vi.restoreAllMocks();
});

function logged(spy: { mock: { calls: unknown[][] } }): string {
  return spy.mock.calls.map((args) => args.map(String).join(' ')).join('\n');
}

describe('secrets and errors', () => {
  it('a database outage answers 503 without the connection string, and logs none of the secrets', async () => {
    const tenant = await createTenant();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warns = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const secretUrl = 'postgresql://app:Sup3rSecretPassw0rd@db.internal.example:5432/app';
    const broken = {
      DATABASE_URL: secretUrl,
      LOCAL_SQL_ENDPOINT: 'http://127.0.0.1:9/sql',
      AUTH_CACHE_TTL_SECONDS: '0',
    };
    const res = await request('/api/trpc/chat.listSessions?input=%7B%7D', { headers: authHeaders(tenant) }, broken);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const text = JSON.stringify(res.body);
    expect(text).toMatch(/database is unavailable/);
    for (const secret of [
      'Sup3rSecretPassw0rd',
      secretUrl,
      tenant.apiKey,
      env.OPENAI_API_KEY ?? '-',
      env.ADMIN_TOKEN ?? '-',
    ]) {
      expect(text).not.toContain(secret);
      expect(logged(errors) + logged(warns)).not.toContain(secret);
    }
    const health = await request('/health', {}, broken);
    expect(health.status).toBe(503);
    expect(JSON.stringify(health.body)).not.toContain('Sup3rSecretPassw0rd');
    expect(logged(errors)).not.toContain('Sup3rSecretPassw0rd');
  });

  it('never sends SQL or driver internals to callers', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    // Warm the key so the failure hits the procedure's own query.
    await request('/api/trpc/chat.listSessions?input=%7B%7D', { headers: authHeaders(tenant) }, {});
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url === env.LOCAL_SQL_ENDPOINT) {
        return new Response(
          JSON.stringify({ message: 'syntax error at or near "SELECT hash FROM api_keys"', code: '42601' }),
          { status: 400, headers: { 'content-type': 'application/json' } },
        );
      }
      return realFetch(input, init);
    }) as typeof fetch;
    const res = await request(
      `/api/trpc/chat.getSession?input=${encodeURIComponent(JSON.stringify({ id: session.id }))}`,
      { headers: authHeaders(tenant) },
      {},
    );
    globalThis.fetch = realFetch;
    expect(res.status).toBe(500);
    expect(res.body.error?.message).toBe('Internal server error. It has been logged; please retry later.');
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/SELECT|api_keys|syntax|stack/i);
    // The cause is logged for operators, without the key.
    expect(logged(errors)).toContain('code=42601');
    expect(logged(errors)).not.toContain(tenant.apiKey);
  });
});

describe('CORS', () => {
  const preflight = (origin: string, envOverrides: Record<string, string> = {}) =>
    request(
      '/api/trpc/chat.listSessions',
      {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-api-key' },
      },
      envOverrides,
    );

  it('is closed by default', async () => {
    const res = await preflight('https://evil.example');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('opens only to the configured origins', async () => {
    const allowed = await preflight('https://app.example', {
      CORS_ORIGINS: 'https://app.example, https://admin.example',
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/x-api-key/);
    const other = await preflight('https://evil.example', { CORS_ORIGINS: 'https://app.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('deletion', () => {
  it('deleting a session deletes its messages and attachments', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const attachments = [{ filename: 'a.txt', mimeType: 'text/plain', data: btoa('attached text') }];
    data(
      await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'with file', attachments }, { tenant }),
    );
    const db = createDb(env);
    const count = async () => {
      const result = await db.execute(sql`
        select (select count(*) from messages where chat_session_id = ${session.id})::int as messages,
               (select count(*) from attachments a join messages m on m.id = a.message_id
                 where m.chat_session_id = ${session.id})::int as attachments,
               (select count(*) from attachments where organization_id = ${tenant.organizationId})::int as org_attachments`);
      return result.rows[0];
    };
    expect(await count()).toEqual({ messages: 2, attachments: 1, org_attachments: 1 });
    data(await mutate('chat.deleteSession', { id: session.id }, { tenant }));
    expect(await count()).toEqual({ messages: 0, attachments: 0, org_attachments: 0 });
  });
});
