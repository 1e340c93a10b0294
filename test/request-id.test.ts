/**
 * The request id (issue 15, "one error path with request ids"): every response carries X-Request-Id,
 * every error body names the same id, and a fault's log line names it too, so a user's report can be
 * matched to the operator's log.
 */
import { env, exports } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ApiResponse, authHeaders, createTenant, mutate, query, request } from './helpers/api';
import { readSse } from './helpers/sse';

const worker = (exports as unknown as { default: Fetcher }).default;
const realFetch = globalThis.fetch;

afterEach(() => {
  globalThis.fetch = realFetch;
  vi.restoreAllMocks();
});

/** The id in the header, checked to be the one in the body (tRPC's shape: error.data.requestId). */
function idOf(res: ApiResponse<any>, bodyId: unknown = res.body?.error?.data?.requestId): string {
  const header = res.headers.get('x-request-id');
  expect(header).toMatch(/^[\w=-]{1,255}$/);
  expect(bodyId).toBe(header);
  return header ?? '';
}

describe('request ids', () => {
  it('are in the header and the body of every kind of tRPC error', async () => {
    const tenant = await createTenant();
    const invalid = await query('chat.getSession', {}, { tenant });
    expect(invalid.status).toBe(400);
    idOf(invalid);

    const unauthenticated = await query('chat.listSessions', {});
    expect(unauthenticated.status).toBe(401);
    idOf(unauthenticated);

    const missing = await query('chat.getSession', { id: 'session_doesnotexist' }, { tenant });
    expect(missing.status).toBe(404);
    idOf(missing);

    const noProcedure = await query('chat.noSuchProcedure', {}, { tenant });
    expect(noProcedure.status).toBe(404);
    idOf(noProcedure);

    // tRPC fails before creating the context: the id is added by src/trpc/mount.ts.
    const unparseable = await request('/api/trpc/chat.listSessions?input=%7Bnot-json', {
      headers: authHeaders(tenant),
    });
    expect(unparseable.status).toBe(400);
    idOf(unparseable);

    const widget = await request('/widget/v1/pk_unknown/trpc/chat.getSession?input=%7B%7D', {
      headers: { origin: 'https://site.example' },
    });
    expect(widget.status).toBe(401);
    idOf(widget);
  });

  it('are in plain routes, body limits, /v1 and /admin errors', async () => {
    const notFound = await request('/no/such/route');
    expect(notFound.status).toBe(404);
    idOf(notFound);

    const tooLarge = await request(
      '/api/trpc/chat.createSession',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ x: 'y'.repeat(5000) }),
      },
      { MAX_BODY_BYTES: '4096' },
    );
    expect(tooLarge.status).toBe(413);
    idOf(tooLarge);

    const openAi = await request('/v1/models');
    expect(openAi.status).toBe(401);
    expect(openAi.body.error).toMatchObject({ type: 'authentication_error', param: null });
    idOf(openAi, openAi.body.error?.request_id);

    const adminRefused = await request('/admin/v1/organizations', { headers: { authorization: 'Bearer wrong' } });
    expect(adminRefused.status).toBe(401);
    idOf(adminRefused);
  });

  it('are in the error event of a stream', async () => {
    const tenant = await createTenant();
    const input = encodeURIComponent(JSON.stringify({ chatSessionId: 'session_doesnotexist', content: 'Hi' }));
    const res = await worker.fetch(`http://api.test/api/trpc/chat.streamMessage?input=${input}`, {
      headers: authHeaders(tenant),
    });
    expect(res.status).toBe(200);
    const events = await readSse(res, (e) => e.event === 'serialized-error');
    const failure = events.find((e) => e.event === 'serialized-error');
    expect(failure?.data.data.httpStatus).toBe(404);
    expect(failure?.data.data.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('are on successful responses too, and a sane client id is kept', async () => {
    const ok = await request('/health');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const own = await request('/no/such/route', { headers: { 'x-request-id': 'support-ticket_42=' } });
    expect(idOf(own)).toBe('support-ticket_42=');

    for (const insane of ['has spaces', '<script>', 'x'.repeat(256)]) {
      const replaced = await request('/no/such/route', { headers: { 'x-request-id': insane } });
      expect(idOf(replaced)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('are in the log line of an internal fault', async () => {
    const tenant = await createTenant();
    const created = await mutate('persona.create', { name: 'Logged' }, { tenant });
    expect(created.status).toBe(200);
    // Warm the key so the failure hits the procedure's own query.
    await request('/api/trpc/persona.list?input=%7B%7D', { headers: authHeaders(tenant) }, {});
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url === env.LOCAL_SQL_ENDPOINT) {
        return new Response(JSON.stringify({ message: 'syntax error', code: '42601' }), {
          status: 400,
          headers: { 'content-type': 'application/json' },
        });
      }
      return realFetch(input, init);
    }) as typeof fetch;
    const res = await request('/api/trpc/persona.list?input=%7B%7D', { headers: authHeaders(tenant) }, {});
    globalThis.fetch = realFetch;
    expect(res.status).toBe(500);
    const id = idOf(res);
    const lines = errors.mock.calls.map((args) => args.map(String).join(' '));
    const line = lines.find((l) => l.includes(id));
    expect(line).toBeDefined();
    expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 'error', requestId: id });
  });
});
