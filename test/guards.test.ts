import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cutAtCodePoint } from '../src/ai/offline-model';
import type { Env } from '../src/env';
import { ulid } from '../src/ids';
import { isLoopbackUrl } from '../src/loopback';
import { admin, authHeaders, createTenant, data, mutate, query, type RestBody, type Tenant } from './helpers/api';
import { enc } from './helpers/chat';
import { conversation, createSession, marker } from './helpers/factories';
import { fakeModel } from './helpers/fake-model';
import { endOutages, isolatedDatabase, setOutage } from './helpers/sql-endpoint';
import { readSse } from './helpers/sse';
import { BASE, fetchWithEnv } from './helpers/worker';

afterEach(async () => {
  await endOutages();
  vi.restoreAllMocks();
});

async function call(path: string, init: RequestInit, vars: Partial<Env>) {
  const { res, done } = await fetchWithEnv(new Request(BASE + path, init), vars);
  await done();
  const text = await res.text();
  let body: RestBody = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the tests read `text`
  }
  return { status: res.status, headers: res.headers, body, text };
}

const listSessions = `/api/trpc/chat.listSessions?input=${enc({})}`;

describe('failed credentials are throttled before the database lookup', () => {
  it('unknown API keys: the same wrong key is refused from memory, and an address over its limit gets 429', async () => {
    const db = isolatedDatabase('guard');
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const tenant = await createTenant();
    const vars = { DATABASE_URL: db.url, AUTH_FAILURES_PER_MINUTE: '3' };
    const headers = (key: string, from = ip) => ({
      'x-api-key': key,
      'x-organization-id': tenant.organizationId,
      'cf-connecting-ip': from,
    });
    const wrong = `pk_${crypto.randomUUID()}`;
    expect((await call(listSessions, { headers: headers(wrong) }, vars)).status).toBe(401);
    // The database is down from here on: an answer other than 503 was given without a lookup.
    await setOutage(db.user, 'refuse');
    expect((await call(listSessions, { headers: headers(wrong) }, vars)).status).toBe(401);
    expect((await call(listSessions, { headers: headers(wrong) }, vars)).status).toBe(401);
    const limited = await call(listSessions, { headers: headers(`pk_${crypto.randomUUID()}`) }, vars);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.error?.message).toMatch(/Too many failed authentication attempts/);
    // Another address with a new key is looked up (and meets the outage): the limit is per address.
    const other = await call(listSessions, { headers: headers(`pk_${crypto.randomUUID()}`, '203.0.113.9') }, vars);
    expect(other.status).toBe(503);
  });

  it('wrong admin tokens: 401, then 429 with Retry-After for that address, even with the right token', async () => {
    const ip = `192.0.2.${Math.floor(Math.random() * 250)}`;
    const vars = { AUTH_FAILURES_PER_MINUTE: '2' };
    const adminCall = (token: string, from = ip) =>
      call(
        '/admin/v1/organizations',
        { headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': from } },
        vars,
      );
    expect((await adminCall('wrong-token')).status).toBe(401);
    expect((await adminCall('wrong-token')).status).toBe(401);
    const limited = await adminCall(env.ADMIN_TOKEN ?? '');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();
    expect((await adminCall(env.ADMIN_TOKEN ?? '', '192.0.2.251')).status).toBe(200);
  });
});

describe('admin API guard rails', () => {
  it('refuses to run with an ADMIN_TOKEN shorter than 32 characters, saying so', async () => {
    const short = 'only-twenty-chars-xx';
    const res = await call(
      '/admin/v1/organizations',
      { headers: { authorization: `Bearer ${short}` } },
      {
        ADMIN_TOKEN: short,
      },
    );
    expect(res.status).toBe(503);
    expect(res.body.error?.message).toMatch(/ADMIN_TOKEN is shorter than 32 characters/);
  });

  it('limits request bodies', async () => {
    const res = await admin('/organizations', { name: 'x'.repeat(20_000) });
    expect(res.status).toBe(413);
    expect(res.body.error?.data.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('logs of failing requests', () => {
  it('carry no message content, titles, user ids, keys or SQL parameters', async () => {
    const lines: string[] = [];
    const capture = (...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : (JSON.stringify(a) ?? String(a)))).join(' '));
    };
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation(capture);
    }
    const tenant = await createTenant();
    const m = marker('secret');
    const { persona } = await conversation(tenant, { model: await fakeModel({ delayMs: 100 }) });
    const session = await createSession(tenant, persona.id, { userId: `user-${m}`, title: `title-${m}` });
    const db = isolatedDatabase('guard');
    const vars = { DATABASE_URL: db.url, AUTH_CACHE_TTL_SECONDS: '600' };
    const headers = { ...authHeaders(tenant), 'content-type': 'application/json' };
    // Warm the key, then fail mid-stream and on every write path.
    expect((await call(listSessions, { headers }, vars)).status).toBe(200);
    const { res: stream, done } = await fetchWithEnv(
      new Request(
        `${BASE}/api/trpc/chat.streamMessage?input=${enc({ chatSessionId: session.id, content: `content-${m}` })}`,
        {
          headers,
        },
      ),
      vars,
    );
    let stopped = false;
    await readSse(stream, (event) => {
      if (!stopped && event.data?.type === 'delta') {
        stopped = true;
        // By organization id too: the session's Durable Object, which runs the turn, loses it as well.
        void setOutage(tenant.organizationId, 'refuse');
      }
      return event.event === 'serialized-error' || event.data?.type === 'reply';
    });
    await done();
    await setOutage(db.user, 'refuse');
    await setOutage(tenant.organizationId, 'refuse');
    const send = await call(
      '/api/trpc/chat.sendMessage',
      { method: 'POST', headers, body: JSON.stringify({ chatSessionId: session.id, content: `content2-${m}` }) },
      vars,
    );
    expect(send.status).toBe(503);
    const rename = await call(
      '/api/trpc/chat.updateSession',
      { method: 'POST', headers, body: JSON.stringify({ id: session.id, title: `newtitle-${m}` }) },
      vars,
    );
    expect(rename.status).toBe(503);
    // A SQL error whose driver error quotes values (as Postgres's DETAIL does): an internal fault.
    await setOutage(db.user, null);
    await setOutage(tenant.organizationId, null);
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url === env.LOCAL_SQL_ENDPOINT) {
        return Response.json(
          {
            message: `duplicate key value (title-${m})`,
            detail: `Key (user_id)=(user-${m}) exists.`,
            code: '23505',
            constraint: 'c1',
          },
          { status: 400 },
        );
      }
      return realFetch(input, init);
    }) as typeof fetch;
    try {
      const failed = await call(
        '/api/trpc/chat.updateSession',
        { method: 'POST', headers, body: JSON.stringify({ id: session.id, title: `title3-${m}` }) },
        vars,
      );
      expect(failed.status).toBe(500);
    } finally {
      globalThis.fetch = realFetch;
    }
    const logged = lines.join('\n');
    // The failures were logged, by code and constraint…
    expect(logged).toMatch(/code=23505/);
    expect(logged).toMatch(/constraint=c1/);
    // …and nothing the tenant sent.
    for (const secret of [m, tenant.apiKey, env.DATABASE_URL, db.url]) expect(logged).not.toContain(secret);
  });
});

describe('nothing dev-only in production', () => {
  it('honours LOCAL_SQL_ENDPOINT only for loopback addresses', async () => {
    for (const url of [
      'http://127.0.0.1:1/sql',
      'http://127.9.8.7/sql',
      'http://localhost:5/sql',
      'http://[::1]:5/sql',
      // The URL parser reads 0x7f.1 as 127.0.0.1: loopback too.
      'http://0x7f.1/sql',
    ]) {
      expect(isLoopbackUrl(url), url).toBe(true);
    }
    for (const url of ['http://10.0.0.1/sql', 'http://127.0.0.1.evil.example/sql', 'file:///x', 'nonsense']) {
      expect(isLoopbackUrl(url), url).toBe(false);
    }
    const tenant = await createTenant();
    const seen: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL) => {
      seen.push(input instanceof Request ? input.url : String(input));
      throw new TypeError('no network in this test');
    }) as typeof fetch;
    try {
      const res = await call(
        listSessions,
        { headers: authHeaders(tenant) },
        {
          LOCAL_SQL_ENDPOINT: 'http://10.0.0.1:8080/sql',
          DATABASE_URL: 'postgresql://app:pw@ep-example.neon.example/app',
          AUTH_CACHE_TTL_SECONDS: '0',
        },
      );
      expect(res.status).toBe(503);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((url) => !url.includes('10.0.0.1'))).toBe(true);
    // Neon's own endpoint for the connection string's host (the driver's default).
    expect(seen[0]).toBe('https://api.neon.example/sql');
  });

  it('without OPENAI_API_KEY answers 503 naming it unless OFFLINE_MODEL=1, and stores nothing', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const production = { OPENAI_API_KEY: '', OFFLINE_MODEL: '' };
    const refused = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'hi' },
      { tenant, env: production },
    );
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toMatch(/OPENAI_API_KEY/);
    const streamed = await call(
      `/api/trpc/chat.streamMessage?input=${enc({ chatSessionId: session.id, content: 'hi' })}`,
      { headers: authHeaders(tenant) },
      production,
    );
    expect(streamed.text).toMatch(/OPENAI_API_KEY/);
    expect(streamed.text).toMatch(/"httpStatus":503/);
    const chat = await call(
      '/api/chat',
      {
        method: 'POST',
        headers: { ...authHeaders(tenant), 'content-type': 'application/json' },
        body: JSON.stringify({ id: session.id, messages: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }] }),
      },
      production,
    );
    expect(chat.status).toBe(503);
    expect(data(await query('chat.getSession', { id: session.id }, { tenant })).messages).toEqual([]);
    const offline = data(
      await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: 'hi' },
        { tenant, env: { OPENAI_API_KEY: '', OFFLINE_MODEL: '1' } },
      ),
    );
    expect(offline.metadata).toMatchObject({ offline: true });
  });

  it('the offline model never cuts a character in half, so its reply can be stored on Neon', async () => {
    const text = `${'a'.repeat(299)}😀${'b'.repeat(50)}`;
    expect(cutAtCodePoint(text, 300)).toBe('a'.repeat(299));
    expect(cutAtCodePoint(text, 301)).toBe(`${'a'.repeat(299)}😀`);
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const reply = data(
      await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: text },
        { tenant, env: { OPENAI_API_KEY: '' } },
      ),
    );
    expect(reply.status).toBe('COMPLETE');
    expect(reply.content.isWellFormed()).toBe(true);
    expect(reply.content).toContain(`${'a'.repeat(299)}…`);
  });

  it('the demo endpoint answers only a loopback Host and its own origin (no DNS rebinding)', async () => {
    const vars = { PLAYGROUND_DEMO_URL: 'http://127.0.0.1:9/demo.json' };
    const url = 'http://127.0.0.1:8787';
    const at = async (headers: Record<string, string>) => {
      const { res, done } = await fetchWithEnv(new Request(`${url}/playground/demo.json`, { headers }), vars);
      await done();
      return res.status;
    };
    // Enabled (503: the demo endpoint on port 9 is not there), for this machine's own page…
    expect(await at({ host: '127.0.0.1:8787' })).toBe(503);
    expect(await at({ host: '127.0.0.1:8787', origin: url })).toBe(503);
    // …and absent for a rebinding page's Host or Origin.
    expect(await at({ host: 'rebind.example:8787' })).toBe(404);
    expect(await at({ host: '127.0.0.1:8787', origin: 'http://rebind.example:8787' })).toBe(404);
  });
});

describe('ids', () => {
  it('draw their whole random part for every id, even within one millisecond', () => {
    const now = Date.now();
    const ids = Array.from({ length: 500 }, () => ulid(now));
    expect(new Set(ids).size).toBe(500);
    expect(new Set(ids.map((id) => id.slice(0, 10))).size).toBe(1);
    // Monotonic ids would share all but their last characters; random ones differ at once.
    expect(new Set(ids.map((id) => id.slice(10, 12))).size).toBeGreaterThan(200);
    expect(ulid(now + 1) > ulid(now)).toBe(true);
  });

  it('do not decide the order of rows made together: attachments keep the order they were sent in', async () => {
    const tenant: Tenant = await createTenant();
    const { session } = await conversation(tenant);
    const names = ['e.txt', 'a.txt', 'd.txt', 'b.txt', 'c.txt'];
    const attachments = names.map((filename) => ({ filename, mimeType: 'text/plain', data: btoa(filename) }));
    for (let i = 0; i < 3; i++) {
      const res = await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: `turn ${i}`, attachments },
        { tenant },
      );
      expect(res.status).toBe(200);
    }
    const stored = data(await query('chat.getSession', { id: session.id }, { tenant }));
    const users = stored.messages.filter((x) => x.role === 'USER');
    expect(users).toHaveLength(3);
    for (const message of users) expect(message.attachments.map((a) => a.filename)).toEqual(names);
    // And a reply always follows its message.
    expect(stored.messages.map((x) => x.role)).toEqual(['USER', 'ASSISTANT', 'USER', 'ASSISTANT', 'USER', 'ASSISTANT']);
  });
});
