import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { createDb } from '../src/db/client';
import { appRouter } from '../src/trpc/router';
import { admin, authHeaders, createTenant, data, mutate, query, type Tenant, type TrpcBody } from './helpers/api';
import { defined } from './helpers/assert';
import { conversation } from './helpers/factories';
import { readSse } from './helpers/sse';
import { receiverUrl } from './helpers/webhook-receiver';
import { BASE, worker } from './helpers/worker';

/** `replyId` is a reply still being generated (STREAMING), so stop and resume have something to act on. */
type Victim = {
  tenant: Tenant;
  personaId: string;
  sessionId: string;
  replyId: string;
  sourceId: string;
  endpointId: string;
  deliveryId: string;
};
type Kind = 'query' | 'mutation' | 'subscription';
/** The fields of an own-organization answer that the checks below read. */
type OwnData = {
  id?: string;
  organizationId?: string;
  version?: number;
  days?: unknown[];
  totals?: { sessionsStarted: number };
};
type Entry = {
  kind: Kind;
  /** Input naming the victim's objects (or trying to write into the victim's organization). */
  input: (v: Victim) => Record<string, unknown>;
  /** What the attacker's own valid key gets: 404 for another organization's ids, or a check. */
  expectOwn: number | ((body: TrpcBody<OwnData>, v: Victim) => void);
};

/** Every procedure of the router must be listed here: the test fails when one is missing. */
const matrix: Record<string, Entry> = {
  'persona.create': {
    kind: 'mutation',
    input: (v) => ({ name: 'Intruder', organizationId: v.tenant.organizationId, id: v.personaId, version: 99 }),
    expectOwn: (body, v) => {
      expect(body.result?.data.organizationId).not.toBe(v.tenant.organizationId);
      expect(body.result?.data.id).not.toBe(v.personaId);
      expect(body.result?.data.version).toBe(1);
    },
  },
  'persona.list': {
    kind: 'query',
    input: () => ({}),
    expectOwn: (body, v) => expect(JSON.stringify(body)).not.toContain(v.personaId),
  },
  'persona.get': { kind: 'query', input: (v) => ({ id: v.personaId }), expectOwn: 404 },
  'persona.update': { kind: 'mutation', input: (v) => ({ id: v.personaId, name: 'Hacked' }), expectOwn: 404 },
  'persona.delete': { kind: 'mutation', input: (v) => ({ id: v.personaId }), expectOwn: 404 },
  'source.add': {
    kind: 'mutation',
    input: (v) => ({
      personaId: v.personaId,
      filename: 'intruder.txt',
      mimeType: 'text/plain',
      data: btoa('intruder'),
    }),
    expectOwn: 404,
  },
  'source.list': {
    kind: 'query',
    input: (v) => ({ personaId: v.personaId }),
    expectOwn: (body) => expect(body.result?.data).toEqual([]),
  },
  'source.get': { kind: 'query', input: (v) => ({ id: v.sourceId, includeChunks: true }), expectOwn: 404 },
  'source.delete': { kind: 'mutation', input: (v) => ({ id: v.sourceId }), expectOwn: 404 },
  'chat.createSession': { kind: 'mutation', input: (v) => ({ personaId: v.personaId }), expectOwn: 404 },
  'chat.listSessions': {
    kind: 'query',
    input: (v) => ({ personaId: v.personaId }),
    expectOwn: (body) => expect(body.result?.data).toEqual([]),
  },
  'chat.getSession': { kind: 'query', input: (v) => ({ id: v.sessionId }), expectOwn: 404 },
  'chat.updateSession': {
    kind: 'mutation',
    input: (v) => ({ id: v.sessionId, title: 'Hacked', status: 'ARCHIVED' }),
    expectOwn: 404,
  },
  'chat.deleteSession': { kind: 'mutation', input: (v) => ({ id: v.sessionId }), expectOwn: 404 },
  'chat.deleteMessage': { kind: 'mutation', input: (v) => ({ messageId: v.replyId }), expectOwn: 404 },
  'chat.listMessages': { kind: 'query', input: (v) => ({ chatSessionId: v.sessionId }), expectOwn: 404 },
  'chat.sendMessage': {
    kind: 'mutation',
    input: (v) => ({ chatSessionId: v.sessionId, content: 'injected', role: 'ASSISTANT' }),
    expectOwn: 404,
  },
  'chat.streamMessage': {
    kind: 'subscription',
    input: (v) => ({ chatSessionId: v.sessionId, content: 'injected' }),
    expectOwn: 404,
  },
  'chat.resumeReply': { kind: 'subscription', input: (v) => ({ messageId: v.replyId }), expectOwn: 404 },
  'chat.stopReply': { kind: 'mutation', input: (v) => ({ messageId: v.replyId }), expectOwn: 404 },
  'chat.regenerate': { kind: 'mutation', input: (v) => ({ messageId: v.replyId }), expectOwn: 404 },
  'chat.streamRegenerate': { kind: 'subscription', input: (v) => ({ messageId: v.replyId }), expectOwn: 404 },
  'chat.listReplyVersions': { kind: 'query', input: (v) => ({ messageId: v.replyId }), expectOwn: 404 },
  'chat.selectReplyVersion': { kind: 'mutation', input: (v) => ({ replyId: v.replyId }), expectOwn: 404 },
  'feedback.rate': {
    kind: 'mutation',
    input: (v) => ({ messageId: v.replyId, rating: 'DOWN', comment: 'hijacked' }),
    expectOwn: 404,
  },
  'feedback.remove': { kind: 'mutation', input: (v) => ({ messageId: v.replyId }), expectOwn: 404 },
  'feedback.listForSession': { kind: 'query', input: (v) => ({ chatSessionId: v.sessionId }), expectOwn: 404 },
  'feedback.listForPersona': {
    kind: 'query',
    input: (v) => ({ personaId: v.personaId }),
    expectOwn: (body) => expect(body.result?.data).toEqual([]),
  },
  'search.messages': {
    kind: 'query',
    // The victim's words, naming the victim's persona and session: nothing comes back.
    input: (v) => ({ query: 'secret', personaId: v.personaId, chatSessionId: v.sessionId }),
    expectOwn: (body) => expect(body.result?.data).toEqual({ items: [], nextCursor: null }),
  },
  'export.session': { kind: 'query', input: (v) => ({ chatSessionId: v.sessionId }), expectOwn: 404 },
  'export.markdown': { kind: 'query', input: (v) => ({ chatSessionId: v.sessionId }), expectOwn: 404 },
  // The victim's persona named, today's range: the attacker's usage only (none for that persona).
  'usage.get': {
    kind: 'query',
    input: (v) => {
      const today = new Date().toISOString().slice(0, 10);
      return { from: '2026-01-01' < today ? '2026-01-01' : today, to: today, personaId: v.personaId };
    },
    expectOwn: (body, v) => {
      expect(body.result?.data.days).toEqual([]);
      expect(body.result?.data.totals?.sessionsStarted).toBe(0);
      expect(JSON.stringify(body)).not.toContain(v.tenant.organizationId);
    },
  },
  'export.importSession': {
    kind: 'mutation',
    input: (v) => ({ personaId: v.personaId, messages: [{ role: 'USER', content: 'planted' }] }),
    expectOwn: 404,
  },
  'webhooks.create': {
    kind: 'mutation',
    input: (v) => ({
      url: 'https://example.com/hook',
      events: ['session.created'],
      organizationId: v.tenant.organizationId,
    }),
    expectOwn: (body, v) => expect(JSON.stringify(body)).not.toContain(v.tenant.organizationId),
  },
  'webhooks.list': {
    kind: 'query',
    input: () => ({}),
    expectOwn: (body, v) => expect(JSON.stringify(body)).not.toContain(v.endpointId),
  },
  'webhooks.get': { kind: 'query', input: (v) => ({ id: v.endpointId }), expectOwn: 404 },
  'webhooks.update': { kind: 'mutation', input: (v) => ({ id: v.endpointId, enabled: false }), expectOwn: 404 },
  'webhooks.rotateSecret': { kind: 'mutation', input: (v) => ({ id: v.endpointId }), expectOwn: 404 },
  'webhooks.delete': { kind: 'mutation', input: (v) => ({ id: v.endpointId }), expectOwn: 404 },
  'webhooks.listDeliveries': {
    kind: 'query',
    input: (v) => ({ endpointId: v.endpointId }),
    expectOwn: (body) => expect(body.result?.data).toEqual([]),
  },
  'webhooks.replayDelivery': { kind: 'mutation', input: (v) => ({ id: v.deliveryId }), expectOwn: 404 },
  // Publishable keys only (test/widget.test.ts covers them): a secret key, even the organization's own, gets 403.
  'widget.startSession': { kind: 'mutation', input: (v) => ({ personaId: v.personaId }), expectOwn: 403 },
};

/** Plain HTTP routes under /api besides tRPC, with what another organization's ids must get. */
const routes: Record<string, { call: (v: Victim, headers: Record<string, string>) => Promise<Response>; own: number }> =
  {
    'POST /api/chat': {
      call: (v, headers) =>
        worker.fetch(`${BASE}/api/chat`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            id: v.sessionId,
            messages: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }],
          }),
        }),
      own: 404,
    },
    // 204 ("nothing streaming") is also what an unknown id of one's own gets: no existence oracle.
    'GET /api/chat/:id/stream': {
      call: (v, headers) => worker.fetch(`${BASE}/api/chat/${v.sessionId}/stream`, { headers }),
      own: 204,
    },
    // Sessions are addressed by organization and id: another organization's stop reaches nothing.
    'POST /api/chat/:id/stop': {
      call: (v, headers) => worker.fetch(`${BASE}/api/chat/${v.sessionId}/stop`, { method: 'POST', headers }),
      own: 204,
    },
  };

/**
 * The OpenAI-compatible routes: the key alone names the organization (Authorization: Bearer), so
 * another organization's ids are simply unknown to it (404), personas and sessions alike.
 */
const bearerRoutes: Record<string, (v: Victim, key: string | undefined) => Promise<Response>> = {
  'GET /v1/models': async (v, key) => {
    const res = await worker.fetch(`${BASE}/v1/models`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    if (res.status !== 200) return res;
    const body = (await res.json()) as { data: { id: string }[] };
    // Listing is the attacker's own: the victim's persona must not be in it (answered as 404 here).
    return new Response(null, { status: body.data.some((m) => m.id === v.personaId) ? 200 : 404 });
  },
  'GET /v1/models/:id': (v, key) =>
    worker.fetch(`${BASE}/v1/models/${v.personaId}`, { headers: key ? { authorization: `Bearer ${key}` } : {} }),
  'POST /v1/chat/completions': (v, key) =>
    worker.fetch(`${BASE}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ model: v.personaId, messages: [{ role: 'user', content: 'planted' }] }),
    }),
  'POST /v1/chat/completions (X-Chat-Session-ID)': (v, key) =>
    worker.fetch(`${BASE}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-chat-session-id': v.sessionId,
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: JSON.stringify({ model: v.personaId, messages: [{ role: 'user', content: 'planted' }] }),
    }),
};

/** Status of a call; for subscriptions, the status carried by the stream's error event. */
async function call(path: string, kind: Kind, input: unknown, headers: Record<string, string>) {
  if (kind === 'mutation') {
    const res = await mutate(path, input, { headers });
    return { status: res.status, body: res.body };
  }
  if (kind === 'query') {
    const res = await query(path, input, { headers });
    return { status: res.status, body: res.body };
  }
  const res = await worker.fetch(`${BASE}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, {
    headers,
  });
  if (res.status !== 200) return { status: res.status, body: await res.json() };
  const events = await readSse(res, (e) => e.event === 'serialized-error' || e.data?.type === 'reply');
  const error = events.find((e) => e.event === 'serialized-error');
  return { status: error ? (error.data.data.httpStatus as number) : 200, body: events };
}

async function snapshot(v: Victim) {
  const auth = { tenant: v.tenant };
  return JSON.stringify([
    data(await query('persona.list', {}, auth)),
    data(await query('chat.listSessions', {}, auth)),
    data(await query('chat.getSession', { id: v.sessionId, includeAttachmentText: true }, auth)),
    // Ratings and sources from the tables: the victim key's rate limit (600/min) must hold for the
    // whole matrix, two snapshots per procedure.
    (
      await createDb(env).execute(
        sql`select * from message_feedback where organization_id = ${v.tenant.organizationId} order by message_id`,
      )
    ).rows,
    (
      await createDb(env).execute(
        sql`select * from knowledge_sources where organization_id = ${v.tenant.organizationId} order by id`,
      )
    ).rows,
    data(await query('source.get', { id: v.sourceId, includeChunks: true }, auth)),
    // Read from the tables (secrets and attempts included) rather than through the victim's key,
    // whose per-minute rate limit the matrix would otherwise exhaust.
    (
      await createDb(env).execute(
        sql`select * from webhook_endpoints where organization_id = ${v.tenant.organizationId}`,
      )
    ).rows,
    (
      await createDb(env).execute(
        sql`select * from webhook_deliveries where organization_id = ${v.tenant.organizationId}`,
      )
    ).rows,
    // Every message with its version state (getSession shows only the versions in use).
    (
      await createDb(env).execute(
        sql`select id, status, superseded_at from messages where organization_id = ${v.tenant.organizationId} order by id`,
      )
    ).rows,
  ]);
}

describe('tenant isolation matrix', () => {
  let victim: Victim;
  let attacker: Tenant;
  let revoked: Tenant;

  beforeAll(async () => {
    const tenant = await createTenant('Victim');
    // An endpoint first, so the session below makes a delivery the attacker can try to list or replay.
    const endpoint = data(
      await mutate(
        'webhooks.create',
        { url: `${receiverUrl()}/hook/${crypto.randomUUID()}`, events: ['session.created'] },
        { tenant },
      ),
    );
    const { persona, session } = await conversation(tenant, { greeting: 'Hello victim' });
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'secret' }, { tenant }));
    // As if its generator were still running (in another isolate): fresh progress, STREAMING.
    await createDb(env).execute(
      sql`update messages set status = 'STREAMING', updated_at = now() + interval '1 hour' where id = ${reply.id}`,
    );
    // A rated reply (the greeting), so rate/remove have a victim's rating to try to change.
    const greeting = defined(data(await query('chat.getSession', { id: session.id }, { tenant })).messages[0]);
    data(await mutate('feedback.rate', { messageId: greeting.id, rating: 'UP' }, { tenant }));
    const source = data(
      await mutate(
        'source.add',
        { personaId: persona.id, filename: 'secret.txt', mimeType: 'text/plain', data: btoa('victim secret') },
        { tenant },
      ),
    );
    // Settled before snapshots are compared, so the queue finishing mid-test is not mistaken for a change.
    for (let i = 0; i < 400; i++) {
      if (data(await query('source.get', { id: source.id }, { tenant })).status !== 'PENDING') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Delivered (not still in flight) before snapshots are compared.
    let delivery: { id: string; status: string } | undefined;
    for (let i = 0; i < 400 && delivery?.status !== 'SUCCEEDED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const found = await createDb(env).execute<{ id: string; status: string }>(
        sql`select id, status from webhook_deliveries where organization_id = ${tenant.organizationId}`,
      );
      delivery = found.rows[0];
    }
    victim = {
      tenant,
      personaId: persona.id,
      sessionId: session.id,
      replyId: reply.id,
      sourceId: source.id,
      endpointId: endpoint.id,
      deliveryId: defined(delivery).id,
    };
    attacker = await createTenant('Attacker');
    revoked = await createTenant('Revoked');
    await admin(`/organizations/${revoked.organizationId}/api-keys/${revoked.apiKeyId}/revoke`, {});
  });

  it('covers every procedure of the router and every /api route', () => {
    expect(Object.keys(appRouter._def.procedures).sort()).toEqual(Object.keys(matrix).sort());
    const apiRoutes = createApp()
      .routes.filter((r) => r.path.startsWith('/api/') && !r.path.startsWith('/api/trpc') && r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/\/$/, '')}`);
    expect([...new Set(apiRoutes)].sort()).toEqual(Object.keys(routes).sort());
    const v1Routes = createApp()
      .routes.filter((r) => r.path.startsWith('/v1/') && r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`);
    const bearerKeys = Object.keys(bearerRoutes).map((k) => k.replace(/ \(.*\)$/, ''));
    expect([...new Set(v1Routes)].sort()).toEqual([...new Set(bearerKeys)].sort());
  });

  for (const [path, entry] of Object.entries(matrix)) {
    it(`${path}: rejects bad credentials and hides other organizations' objects`, async () => {
      const before = await snapshot(victim);
      const input = entry.input(victim);
      const cases: [string, Record<string, string>, number][] = [
        ['no headers', {}, 401],
        ['wrong key', { ...authHeaders(attacker), 'x-api-key': 'pk_wrongwrongwrongwrongwrongwrongwr' }, 401],
        ['revoked key', authHeaders(revoked), 401],
        [
          "valid key, other organization's id",
          { ...authHeaders(attacker), 'x-organization-id': victim.tenant.organizationId },
          403,
        ],
      ];
      for (const [name, headers, status] of cases) {
        expect((await call(path, entry.kind, input, headers)).status, `${path} ${name}`).toBe(status);
      }
      const own = await call(path, entry.kind, input, authHeaders(attacker));
      if (typeof entry.expectOwn === 'number') {
        expect(own.status, `${path} with the attacker's own key`).toBe(entry.expectOwn);
      } else {
        expect(own.status).toBe(200);
        entry.expectOwn(own.body as TrpcBody<OwnData>, victim);
      }
      expect(await snapshot(victim), `${path} changed the victim's data`).toBe(before);
    });
  }

  for (const [route, entry] of Object.entries(routes)) {
    it(`${route}: rejects bad credentials and hides other organizations' objects`, async () => {
      const before = await snapshot(victim);
      expect((await entry.call(victim, {})).status).toBe(401);
      expect((await entry.call(victim, authHeaders(revoked))).status).toBe(401);
      expect(
        (await entry.call(victim, { ...authHeaders(attacker), 'x-organization-id': victim.tenant.organizationId }))
          .status,
      ).toBe(403);
      expect((await entry.call(victim, authHeaders(attacker))).status).toBe(entry.own);
      expect(await snapshot(victim)).toBe(before);
    });
  }

  for (const [route, callRoute] of Object.entries(bearerRoutes)) {
    it(`${route}: rejects bad credentials and hides other organizations' objects`, async () => {
      const before = await snapshot(victim);
      expect((await callRoute(victim, undefined)).status).toBe(401);
      expect((await callRoute(victim, 'pk_wrongwrongwrongwrongwrongwrongwr')).status).toBe(401);
      expect((await callRoute(victim, revoked.apiKey)).status).toBe(401);
      expect((await callRoute(victim, attacker.apiKey)).status).toBe(404);
      // The victim's own key does reach them: the 404 above is about the organization, not the route.
      if (!route.startsWith('POST')) expect((await callRoute(victim, victim.tenant.apiKey)).status).toBe(200);
      expect(await snapshot(victim)).toBe(before);
    });
  }
});
