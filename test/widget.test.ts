/**
 * The embeddable widget's API (issue 18): key kinds, publishable keys limited to what a visitor needs,
 * visitor tokens bound to one session, CORS exactly for a key's origins, per-visitor limits.
 */
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth/keys';
import { visitorProcedures } from '../src/auth/publishable';
import { createDb } from '../src/db/client';
import { appRouter } from '../src/trpc/router';
import {
  type ApiResponse,
  admin,
  authHeaders,
  createTenant,
  data,
  type OutputOf,
  query,
  request,
  type Tenant,
  type TrpcBody,
} from './helpers/api';
import { createPersona, marker, modelRequests } from './helpers/factories';
import { pdfFixture } from './helpers/pdf-fixtures';
import { procedureKinds } from './helpers/procedures';
import { readSse, type SseEvent } from './helpers/sse';
import { BASE, worker } from './helpers/worker';

const SHOP = 'https://shop.example';
const EVIL = 'https://evil.example';

type Kind = 'query' | 'mutation' | 'subscription';
type WidgetKey = { id: string; key: string };
/** What GET /widget/v1/:key/check answers a page. */
type WidgetCheck = { allowed: boolean; message: string; attachments: unknown };

async function createWidgetKey(tenant: Tenant, personaIds: string[], extra: Record<string, unknown> = {}) {
  const res = await admin<WidgetKey>(`/organizations/${tenant.organizationId}/publishable-keys`, {
    name: 'Website',
    allowedOrigins: [SHOP],
    personaIds,
    ...extra,
  });
  if (res.status !== 201) throw new Error(`publishable key: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as WidgetKey;
}

/**
 * A call through the widget endpoint, as the widget makes it from a page on `origin`. A subscription
 * that starts answers its SSE events in `events` (and the status its error event carries, if any);
 * `text` is what the answer said: its body, or a stream's event data as JSON.
 */
async function widget<P extends string>(
  key: string,
  path: P,
  kind: Kind,
  input: unknown,
  opts: { origin?: string | null; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<TrpcBody<OutputOf<P>>> & { events: SseEvent[]; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  const origin = opts.origin === undefined ? SHOP : opts.origin;
  if (origin) headers.origin = origin;
  if (opts.token) headers['x-visitor-token'] = opts.token;
  const url = `${BASE}/widget/v1/${key}/trpc/${path}`;
  const res =
    kind === 'query'
      ? await worker.fetch(`${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
      : await worker.fetch(url, { method: 'POST', headers, body: JSON.stringify(input) });
  if (kind === 'subscription' && res.status === 200) {
    const events = await readSse(res, (e) => e.event === 'serialized-error' || e.data?.type === 'reply');
    const error = events.find((e) => e.event === 'serialized-error');
    const status = error ? (error.data.data.httpStatus as number) : 200;
    return { status, body: {}, events, text: JSON.stringify(events.map((e) => e.data)), headers: res.headers };
  }
  const text = await res.text();
  let body: TrpcBody<OutputOf<P>> = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: tests read `text`
  }
  return { status: res.status, body, events: [], text, headers: res.headers };
}

/** Calls through key `key` as the visitor `v` (its token), the way the widget does after startSession. */
function asVisitor(key: string, v: { visitorToken: string }) {
  return <P extends string>(path: P, kind: Kind, input: unknown) =>
    widget(key, path, kind, input, { token: v.visitorToken });
}

async function startVisitor(key: string, personaId: string, extra: Record<string, unknown> = {}) {
  const res = await widget(key, 'widget.startSession', 'mutation', { personaId, ...extra });
  if (res.status !== 200) throw new Error(`startSession: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.result?.data as {
    session: { id: string; platform: string; userId: string | null };
    visitorToken: string;
  };
}

const kindOf = (path: string): Kind => {
  const type = procedureKinds[path];
  if (!type) throw new Error(`no procedure ${path}`);
  return type;
};

describe('key kinds', () => {
  it('issues secret keys as sk_ and keeps verifying pk_ secret keys issued before', async () => {
    const tenant = await createTenant('Key kinds');
    expect(tenant.apiKey).toMatch(/^sk_[A-Za-z0-9_-]{32}$/);
    // A key as issued before this change: `pk_` prefix, stored as its SHA-256 like any other.
    const legacy = `pk_${'L'.repeat(32)}${crypto.randomUUID().slice(0, 4)}`;
    await createDb(env).execute(
      sql`insert into api_keys (id, organization_id, name, prefix, hash)
          values (${`key_legacy${crypto.randomUUID().slice(0, 8)}`}, ${tenant.organizationId}, 'legacy', ${legacy.slice(0, 10)}, ${await sha256Hex(legacy)})`,
    );
    const res = await query('chat.listSessions', {}, { tenant: { ...tenant, apiKey: legacy } });
    expect(res.status).toBe(200);
  });

  it('issues publishable keys as pub_ and never accepts one as a secret key', async () => {
    const tenant = await createTenant('Publishable');
    const persona = await createPersona(tenant);
    const wk = await createWidgetKey(tenant, [persona.id]);
    expect(wk.key).toMatch(/^pub_[A-Za-z0-9_-]{32}$/);
    const asSecret = await query('chat.listSessions', {}, { tenant: { ...tenant, apiKey: wk.key } });
    expect(asSecret.status).toBe(403);
    expect(asSecret.body.error?.message).toMatch(/widget endpoint/);
    // The plain /api/chat route looks keys up among secret keys only: a publishable key is unknown there.
    const chat = await request('/api/chat', {
      method: 'POST',
      headers: { ...authHeaders({ ...tenant, apiKey: wk.key }), 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'session_x', messages: [] }),
    });
    expect(chat.status).toBe(401);
  });

  it('refuses secret keys from browser origins that are not allowed', async () => {
    const tenant = await createTenant('Origins');
    const from = (origin: string, envOverrides?: Record<string, string>) =>
      query('persona.list', {}, { tenant, headers: { origin }, ...(envOverrides ? { env: envOverrides } : {}) });
    const foreign = await from(EVIL);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error?.message).toMatch(/evil\.example.*CORS_ORIGINS/);
    expect((await from(BASE)).status).toBe(200); // same origin: the playground
    expect((await from(EVIL, { CORS_ORIGINS: EVIL })).status).toBe(200);
    expect((await query('persona.list', {}, { tenant })).status).toBe(200); // servers send no Origin
  });
});

describe('publishable keys', () => {
  let tenant: Tenant;
  let personaId: string;
  let otherPersonaId: string;
  let wk: WidgetKey;

  beforeAll(async () => {
    tenant = await createTenant('Widget org');
    personaId = (await createPersona(tenant, { greeting: 'Hi! How can I help?' })).id;
    otherPersonaId = (await createPersona(tenant, { name: 'Internal' })).id;
    wk = await createWidgetKey(tenant, [personaId]);
  });

  it('starts a WIDGET session with an allowed persona and a visitor token', async () => {
    const started = await startVisitor(wk.key, personaId);
    expect(started.session.platform).toBe('WIDGET');
    expect(started.session.userId).toBeNull();
    expect(started.visitorToken).toMatch(/^vt1\.[\w-]+\.[\w-]+$/);
    const got = await asVisitor(wk.key, started)('chat.getSession', 'query', { id: started.session.id });
    expect(got.status).toBe(200);
    expect(got.body.result?.data.messages.map((m: { content: string }) => m.content)).toEqual(['Hi! How can I help?']);
  });

  it('refuses personas the key does not allow, other origins and requests without an origin', async () => {
    expect((await widget(wk.key, 'widget.startSession', 'mutation', { personaId: otherPersonaId })).status).toBe(403);
    const evil = await widget(wk.key, 'widget.startSession', 'mutation', { personaId }, { origin: EVIL });
    expect(evil.status).toBe(403);
    expect(evil.body.error?.message).toMatch(/not allowed on https:\/\/evil\.example/);
    expect((await widget(wk.key, 'widget.startSession', 'mutation', { personaId }, { origin: null })).status).toBe(403);
    const unknown = await widget(`pub_${'x'.repeat(32)}`, 'widget.startSession', 'mutation', { personaId });
    expect(unknown.status).toBe(401);
  });

  it('takes a same-origin page (no Origin on GET, Sec-Fetch-Site: same-origin) as the API origin', async () => {
    const own = await createWidgetKey(tenant, [personaId], { allowedOrigins: [BASE] });
    const sameOrigin = { origin: null, headers: { 'sec-fetch-site': 'same-origin' } };
    expect((await widget(own.key, 'widget.startSession', 'mutation', { personaId }, sameOrigin)).status).toBe(200);
    // The shop's key does not allow the API's origin; a cross-site request without Origin is no page at all.
    expect((await widget(wk.key, 'widget.startSession', 'mutation', { personaId }, sameOrigin)).status).toBe(403);
    const crossSite = { origin: null, headers: { 'sec-fetch-site': 'cross-site' } };
    expect((await widget(own.key, 'widget.startSession', 'mutation', { personaId }, crossSite)).status).toBe(403);
  });

  it('answers 403 on every procedure a visitor must not call, with or without a visitor token', async () => {
    const { session, visitorToken } = await startVisitor(wk.key, personaId);
    const all = Object.keys(appRouter._def.procedures);
    const forbidden = all.filter((p) => !visitorProcedures.includes(p) && p !== 'widget.startSession');
    // What a visitor may call is exactly this; everything else in the router is refused.
    expect(visitorProcedures.sort()).toEqual(
      [
        'chat.getSession',
        'chat.listMessages',
        'chat.resumeReply',
        'chat.sendMessage',
        'chat.stopReply',
        'chat.streamMessage',
      ].sort(),
    );
    expect(forbidden.length).toBeGreaterThanOrEqual(8);
    const inputs: Record<string, unknown> = {
      'persona.create': { name: 'Intruder' },
      'persona.list': {},
      'persona.get': { id: personaId },
      'persona.update': { id: personaId, name: 'Hacked' },
      'persona.delete': { id: personaId },
      'chat.createSession': { personaId },
      'chat.listSessions': {},
      'chat.updateSession': { id: session.id, title: 'Hacked' },
      'chat.deleteSession': { id: session.id },
    };
    for (const path of forbidden) {
      const input = inputs[path] ?? { id: session.id, chatSessionId: session.id, personaId };
      for (const token of [undefined, visitorToken]) {
        const res = await widget(wk.key, path, kindOf(path), input, token ? { token } : {});
        expect(res.status, `${path} ${token ? 'with' : 'without'} a visitor token`).toBe(403);
      }
    }
    // Nothing changed: the persona and the session are as they were.
    const persona = data(await query('persona.get', { id: personaId }, { tenant }));
    expect(persona.name).toBe('Support Agent');
    const own = data(await query('chat.getSession', { id: session.id }, { tenant }));
    expect(own.title).toBeNull();
  });

  it("refuses a visitor token on another visitor's session, for every visitor procedure", async () => {
    const a = await startVisitor(wk.key, personaId);
    const b = await startVisitor(wk.key, personaId);
    const m = marker('b');
    const reply = await asVisitor(wk.key, b)('chat.sendMessage', 'mutation', {
      chatSessionId: b.session.id,
      content: m,
    });
    expect(reply.status).toBe(200);
    const replyId = reply.body.result?.data.id as string;
    const before = JSON.stringify(data(await query('chat.getSession', { id: b.session.id }, { tenant })));
    const attempts: [string, unknown][] = [
      ['chat.getSession', { id: b.session.id }],
      ['chat.listMessages', { chatSessionId: b.session.id }],
      ['chat.sendMessage', { chatSessionId: b.session.id, content: 'intrusion' }],
      ['chat.streamMessage', { chatSessionId: b.session.id, content: 'intrusion' }],
      // Own session named, but resuming someone else's reply.
      ['chat.streamMessage', { chatSessionId: a.session.id, content: 'x', lastEventId: `${replyId}:0` }],
      ['chat.stopReply', { messageId: replyId }],
      ['chat.resumeReply', { messageId: replyId }],
    ];
    for (const [path, input] of attempts) {
      const res = await widget(wk.key, path, kindOf(path), input, { token: a.visitorToken });
      expect(res.status, `${path} ${JSON.stringify(input)}`).toBe(403);
    }
    // A tampered token (b's claims, a's signature) and no token at all are refused too.
    const [v, , sig] = a.visitorToken.split('.');
    const forged = `${v}.${b.visitorToken.split('.')[1]}.${sig}`;
    const tampered = await widget(wk.key, 'chat.getSession', 'query', { id: b.session.id }, { token: forged });
    expect(tampered.status).toBe(401);
    expect((await widget(wk.key, 'chat.getSession', 'query', { id: b.session.id })).status).toBe(401);
    expect(JSON.stringify(data(await query('chat.getSession', { id: b.session.id }, { tenant })))).toBe(before);
  });

  it("refuses a visitor token made for another key or another organization's key", async () => {
    const second = await createWidgetKey(tenant, [personaId]);
    const a = await startVisitor(wk.key, personaId);
    const res = await asVisitor(second.key, a)('chat.getSession', 'query', { id: a.session.id });
    expect(res.status).toBe(403);
  });

  it('lets a visitor chat: send, stream, read and stop only in its own session', async () => {
    const v = await startVisitor(wk.key, personaId);
    const m = marker('w');
    const res = await asVisitor(wk.key, v)('chat.streamMessage', 'subscription', {
      chatSessionId: v.session.id,
      content: m,
    });
    expect(res.status).toBe(200);
    const final = res.events.find((e: SseEvent) => e.data?.type === 'reply')?.data;
    expect(final.message.content).toBe(`You said: ${m}. This is a streamed test reply.`);
    const list = await asVisitor(wk.key, v)('chat.listMessages', 'query', { chatSessionId: v.session.id });
    expect(list.status).toBe(200);
    expect(list.body.result?.data.map((x: { role: string }) => x.role)).toEqual(['ASSISTANT', 'USER', 'ASSISTANT']);
    // Stopping its own finished reply reaches the procedure (which says it has finished).
    const stop = await asVisitor(wk.key, v)('chat.stopReply', 'mutation', { messageId: final.message.id });
    expect(stop.status).toBe(409);
  });

  it('lets a visitor send only plain USER messages within the length limit', async () => {
    const v = await startVisitor(wk.key, personaId);
    const send = (input: Record<string, unknown>) =>
      asVisitor(wk.key, v)('chat.sendMessage', 'mutation', { chatSessionId: v.session.id, ...input });
    expect((await send({ content: 'x', role: 'ASSISTANT' })).status).toBe(403);
    expect((await send({ content: 'x', role: 'SYSTEM' })).status).toBe(403);
    expect((await send({ content: 'x', metadata: { admin: true } })).status).toBe(403);
    const long = await send({ content: 'y'.repeat(2001) });
    expect(long.status).toBe(400);
    expect(long.body.error?.message).toMatch(/max 2000/);
    const rows = data(await query('chat.listMessages', { chatSessionId: v.session.id }, { tenant }));
    expect(rows.map((r) => r.role)).toEqual(['ASSISTANT']); // only the greeting: nothing was written
  });

  it('caps messages per visitor per day and requests per visitor per minute with 429 and Retry-After', async () => {
    const capped = await createWidgetKey(tenant, [personaId], { visitorLimits: { dailyMessages: 1 } });
    const v = await startVisitor(capped.key, personaId);
    const send = () =>
      asVisitor(capped.key, v)('chat.sendMessage', 'mutation', { chatSessionId: v.session.id, content: marker('cap') });
    expect((await send()).status).toBe(200);
    const second = await send();
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(second.headers.get('retry-after'))).toBeLessThanOrEqual(86_400);

    const slow = await createWidgetKey(tenant, [personaId], { visitorLimits: { requestsPerMinute: 2 } });
    const w = await startVisitor(slow.key, personaId);
    const read = () => asVisitor(slow.key, w)('chat.listMessages', 'query', { chatSessionId: w.session.id });
    expect((await read()).status).toBe(200);
    expect((await read()).status).toBe(200);
    const third = await read();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another visitor of the same key is not affected.
    const other = await startVisitor(slow.key, personaId);
    const otherRead = await asVisitor(slow.key, other)('chat.listMessages', 'query', {
      chatSessionId: other.session.id,
    });
    expect(otherRead.status).toBe(200);
  });

  it('links a session to a user only with a valid identity hash', async () => {
    const res = await admin<{ identitySecret: string }>(
      `/organizations/${tenant.organizationId}/widget-identity-secret`,
    );
    expect(res.status).toBe(200);
    const secret = res.body.identitySecret as string;
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode('user-42')));
    const userHash = Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
    const verified = await startVisitor(wk.key, personaId, { userId: 'user-42', userHash });
    expect(verified.session.userId).toBe('user-42');
    const claim = await widget(wk.key, 'widget.startSession', 'mutation', { personaId, userId: 'user-42' });
    expect(claim.status).toBe(403);
    const wrong = await widget(wk.key, 'widget.startSession', 'mutation', {
      personaId,
      userId: 'user-43',
      userHash,
    });
    expect(wrong.status).toBe(403);
  });

  it('stops working once revoked', async () => {
    const temp = await createWidgetKey(tenant, [personaId]);
    const v = await startVisitor(temp.key, personaId);
    const revoked = await admin(`/organizations/${tenant.organizationId}/publishable-keys/${temp.id}/revoke`, {});
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const res = await asVisitor(temp.key, v)('chat.getSession', 'query', { id: v.session.id });
    expect(res.status).toBe(401);
    const list = await admin<(WidgetKey & { revokedAt: string | null })[]>(
      `/organizations/${tenant.organizationId}/publishable-keys`,
    );
    expect(list.body.find((k) => k.id === temp.id)?.revokedAt).toEqual(expect.any(String));
    expect(JSON.stringify(list.body)).not.toContain(temp.key);
  });

  it('validates key creation: origins, personas of the organization only', async () => {
    const other = await createTenant('Other');
    const foreignPersona = await createPersona(other);
    const path = `/organizations/${tenant.organizationId}/publishable-keys`;
    expect(
      (await admin(path, { name: 'x', allowedOrigins: ['https://a.example/path'], personaIds: [personaId] })).status,
    ).toBe(400);
    expect((await admin(path, { name: 'x', allowedOrigins: ['*'], personaIds: [personaId] })).status).toBe(400);
    expect((await admin(path, { name: 'x', allowedOrigins: [SHOP], personaIds: [foreignPersona.id] })).status).toBe(
      404,
    );
    expect((await admin(path, { name: 'x', allowedOrigins: [], personaIds: [personaId] })).status).toBe(400);
  });
});

describe('widget CORS', () => {
  let wk: WidgetKey;

  beforeAll(async () => {
    const tenant = await createTenant('CORS org');
    const persona = await createPersona(tenant);
    wk = await createWidgetKey(tenant, [persona.id]);
  });

  const preflight = (path: string, origin: string) =>
    worker.fetch(`${BASE}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-visitor-token',
      },
    });

  it('answers preflights with CORS headers only for the key’s allowed origins', async () => {
    const ok = await preflight(`/widget/v1/${wk.key}/trpc/chat.streamMessage`, SHOP);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(ok.headers.get('access-control-allow-headers')).toContain('x-visitor-token');
    const evil = await preflight(`/widget/v1/${wk.key}/trpc/chat.streamMessage`, EVIL);
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const unknown = await preflight(`/widget/v1/pub_${'z'.repeat(32)}/trpc/chat.streamMessage`, SHOP);
    expect(unknown.headers.get('access-control-allow-origin')).toBeNull();
    // The rest of the API stays closed to the widget's origin.
    const api = await preflight('/api/trpc/chat.sendMessage', SHOP);
    expect(api.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('puts CORS headers on responses for allowed origins only', async () => {
    const shop = await widget(wk.key, 'chat.listMessages', 'query', { chatSessionId: 'session_x' }, {});
    expect(shop.headers.get('access-control-allow-origin')).toBe(SHOP);
    const evil = await widget(wk.key, 'chat.listMessages', 'query', { chatSessionId: 'session_x' }, { origin: EVIL });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('tells any page whether it may use the key (so the widget can say why it cannot start)', async () => {
    const check = (origin: string) =>
      worker
        .fetch(`${BASE}/widget/v1/${wk.key}/check`, { headers: { origin } })
        .then((r) => r.json() as Promise<WidgetCheck>);
    expect(await check(SHOP)).toEqual({ allowed: true, message: '', attachments: null });
    const evil = await check(EVIL);
    expect(evil.allowed).toBe(false);
    expect(evil.message).toMatch(/not available on https:\/\/evil\.example/);
  });

  it('serves widget.js as a cacheable script', async () => {
    const res = await worker.fetch(`${BASE}/widget.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const etag = res.headers.get('etag') ?? '';
    const source = await res.text();
    expect(source).toContain('attachShadow');
    // One classic script (embed codes have no type="module"): the widget's modules and the shared SSE
    // parser (src/ui/sse.js) joined in one function, without their imports and exports.
    expect(source).toMatch(/^\/\*! Persona chat widget v1/);
    expect(source).toContain('async function* readSse(');
    expect(source).not.toMatch(/^\s*(import|export)\s/m);
    const again = await worker.fetch(`${BASE}/widget.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });
});

describe('visitor attachments', () => {
  let tenant: Tenant;
  let personaId: string;
  let open: WidgetKey;
  let closed: WidgetKey;

  const b64 = (text: string) => {
    let binary = '';
    for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
    return btoa(binary);
  };
  const txt = (text: string, filename = 'notes.txt') => ({ filename, mimeType: 'text/plain', data: b64(text) });
  const messageCount = async (sessionId: string) =>
    data(await query('chat.listMessages', { chatSessionId: sessionId }, { tenant })).length;

  beforeAll(async () => {
    tenant = await createTenant('Widget files org');
    personaId = (await createPersona(tenant)).id;
    open = await createWidgetKey(tenant, [personaId], {
      visitorLimits: { allowAttachments: true, maxAttachmentBytes: 64 * 1024 },
    });
    closed = await createWidgetKey(tenant, [personaId]);
  });

  const send = (key: string, v: { session: { id: string }; visitorToken: string }, input: Record<string, unknown>) =>
    asVisitor(key, v)('chat.streamMessage', 'subscription', { chatSessionId: v.session.id, ...input });

  it('says in /check what a key lets visitors attach', async () => {
    const check = (key: string) =>
      worker
        .fetch(`${BASE}/widget/v1/${key}/check`, { headers: { origin: SHOP } })
        .then((r) => r.json() as Promise<WidgetCheck>);
    expect((await check(open.key)).attachments).toEqual({
      maxCount: 1,
      maxBytes: 64 * 1024,
      types: ['application/pdf', 'text/plain'],
    });
    expect((await check(closed.key)).attachments).toBeNull();
  });

  it('accepts a text file on a key that allows it, and its text reaches the model', async () => {
    const v = await startVisitor(open.key, personaId);
    const m = marker('wfile');
    const secret = `${marker('content')} The parcel leaves the warehouse on Tuesday.`;
    const res = await send(open.key, v, { content: `${m} what does my note say?`, attachments: [txt(secret)] });
    expect(res.status).toBe(200);
    const final = res.events.find((e: SseEvent) => e.data?.type === 'reply')?.data;
    expect(final.message.status).toBe('COMPLETE');
    const prompts = await modelRequests(m);
    expect(prompts.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(prompts.at(-1)?.body)).toContain(secret);
    const stored = data(await query('chat.listMessages', { chatSessionId: v.session.id }, { tenant }));
    expect(stored.find((x) => x.role === 'USER')?.attachments).toEqual([
      expect.objectContaining({ filename: 'notes.txt', mimeType: 'text/plain' }),
    ]);
  });

  it('accepts a PDF, read through the same extraction as secret-key sends', async () => {
    const v = await startVisitor(open.key, personaId);
    const m = marker('wpdf');
    const res = await send(open.key, v, {
      content: `${m} summarize`,
      attachments: [
        { filename: 'doc.pdf', mimeType: 'application/pdf', data: pdfFixture('simple-onepage_minimal-document.pdf') },
      ],
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify((await modelRequests(m)).at(-1)?.body)).toContain('Lorem ipsum dolor sit amet');
  });

  it('refuses attachments on a key that does not allow them (403), writing nothing', async () => {
    const v = await startVisitor(closed.key, personaId);
    const m = marker('wno');
    const res = await send(closed.key, v, { content: m, attachments: [txt('hello')] });
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/does not accept attachments/);
    expect(await messageCount(v.session.id)).toBe(0);
    expect(await modelRequests(m)).toEqual([]);
  });

  it('refuses a file over the key’s size (413), a type it does not accept (415), too many files (400)', async () => {
    const v = await startVisitor(open.key, personaId);
    const big = await send(open.key, v, { content: 'big', attachments: [txt('x'.repeat(64 * 1024 + 1))] });
    expect(big.status).toBe(413);
    expect(big.text).toMatch(/too large/);
    const csv = { filename: 'a.csv', mimeType: 'text/csv', data: b64('a,b\n1,2\n') };
    const wrong = await send(open.key, v, { content: 'csv', attachments: [csv] });
    expect(wrong.status).toBe(415);
    expect(wrong.text).toMatch(/accepted: application\/pdf, text\/plain/);
    const many = await send(open.key, v, { content: 'two', attachments: [txt('a'), txt('b', 'b.txt')] });
    expect(many.status).toBe(400);
    expect(await messageCount(v.session.id)).toBe(0);
  });

  it('bounds the request body by what the key allows, before parsing', async () => {
    const v = await startVisitor(open.key, personaId);
    // Past the key's allowance in base64 plus 64 KiB, the body is refused unread.
    const huge = await send(open.key, v, { content: 'x', attachments: [txt('y'.repeat(200 * 1024))] });
    expect(huge.status).toBe(413);
    expect(huge.text).toMatch(/limited to \d+ bytes/);
    // A key without attachments keeps the 64 KiB limit.
    const w = await startVisitor(closed.key, personaId);
    const plain = await send(closed.key, w, { content: 'x', attachments: [txt('y'.repeat(60 * 1024))] });
    expect(plain.status).toBe(413);
  });

  it('validates the attachment settings when a key is created', async () => {
    const path = `/organizations/${tenant.organizationId}/publishable-keys`;
    const create = (visitorLimits: Record<string, unknown>) =>
      admin(path, { name: 'x', allowedOrigins: [SHOP], personaIds: [personaId], visitorLimits });
    expect((await create({ allowAttachments: true, maxAttachments: 4 })).status).toBe(400);
    expect((await create({ allowAttachments: true, maxAttachmentBytes: 6 * 1024 * 1024 })).status).toBe(400);
    expect(
      (await create({ allowAttachments: true, maxAttachments: 3, maxAttachmentBytes: 5 * 1024 * 1024 })).status,
    ).toBe(400);
    expect((await create({ allowAttachments: true, attachmentTypes: ['image/png'] })).status).toBe(400);
    const ok = await create({ allowAttachments: true, maxAttachments: 2, attachmentTypes: ['text/markdown'] });
    expect(ok.status).toBe(201);
    expect(ok.body.visitorLimits).toEqual({
      allowAttachments: true,
      maxAttachments: 2,
      attachmentTypes: ['text/markdown'],
    });
  });
});

describe('widget preview page', () => {
  it('embeds the widget for a key and persona, taking only values that match their patterns', async () => {
    const res = await worker.fetch(`${BASE}/playground/widget?key=pub_abc-DEF_123&persona=persona_01X&color=%230f766e`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self';/);
    expect(csp).toMatch(/style-src 'self';/);
    expect(csp).not.toMatch(/unsafe-/);
    const html = await res.text();
    expect(html).not.toMatch(/<style\b|\sstyle\s*=/i);
    expect(html).toContain(
      '<script src="/widget.js" data-key="pub_abc-DEF_123" data-persona="persona_01X" data-color="#0f766e" async>',
    );
    const hostile = await worker.fetch(
      `${BASE}/playground/widget?key=${encodeURIComponent('pub_x"><img src=x onerror=alert(1)>')}&persona=p`,
    );
    const page = await hostile.text();
    expect(page).not.toContain('<img');
    expect(page).not.toContain('src="/widget.js"');
    expect(page).toContain('role="alert"');
  });
});
