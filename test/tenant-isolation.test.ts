import { env, exports } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { createDb } from '../src/db/client';
import { appRouter } from '../src/trpc/router';
import { admin, authHeaders, createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { conversation } from './helpers/factories';
import { readSse } from './helpers/sse';

const worker = (exports as unknown as { default: Fetcher }).default;
const BASE = 'http://api.test';

/** `replyId` is a reply still being generated (STREAMING), so stop and resume have something to act on. */
type Victim = { tenant: Tenant; personaId: string; sessionId: string; replyId: string };
type Kind = 'query' | 'mutation' | 'subscription';
type Entry = {
  kind: Kind;
  /** Input naming the victim's objects (or trying to write into the victim's organization). */
  input: (v: Victim) => Record<string, unknown>;
  /** What the attacker's own valid key gets: 404 for another organization's ids, or a check. */
  expectOwn: number | ((body: any, v: Victim) => void);
};

/** Every procedure of the router must be listed here: the test fails when one is missing. */
const matrix: Record<string, Entry> = {
  'persona.create': {
    kind: 'mutation',
    input: (v) => ({ name: 'Intruder', organizationId: v.tenant.organizationId, id: v.personaId, version: 99 }),
    expectOwn: (body, v) => {
      expect(body.result.data.organizationId).not.toBe(v.tenant.organizationId);
      expect(body.result.data.id).not.toBe(v.personaId);
      expect(body.result.data.version).toBe(1);
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
  'chat.createSession': { kind: 'mutation', input: (v) => ({ personaId: v.personaId }), expectOwn: 404 },
  'chat.listSessions': {
    kind: 'query',
    input: (v) => ({ personaId: v.personaId }),
    expectOwn: (body) => expect(body.result.data).toEqual([]),
  },
  'chat.getSession': { kind: 'query', input: (v) => ({ id: v.sessionId }), expectOwn: 404 },
  'chat.updateSession': {
    kind: 'mutation',
    input: (v) => ({ id: v.sessionId, title: 'Hacked', status: 'ARCHIVED' }),
    expectOwn: 404,
  },
  'chat.deleteSession': { kind: 'mutation', input: (v) => ({ id: v.sessionId }), expectOwn: 404 },
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
    expectOwn: (body) => expect(body.result.data).toEqual([]),
  },
  'search.messages': {
    kind: 'query',
    // The victim's words, naming the victim's persona and session: nothing comes back.
    input: (v) => ({ query: 'secret', personaId: v.personaId, chatSessionId: v.sessionId }),
    expectOwn: (body) => expect(body.result.data).toEqual({ items: [], nextCursor: null }),
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
      expect(body.result.data.days).toEqual([]);
      expect(body.result.data.totals.sessionsStarted).toBe(0);
      expect(JSON.stringify(body)).not.toContain(v.tenant.organizationId);
    },
  },
  'export.importSession': {
    kind: 'mutation',
    input: (v) => ({ personaId: v.personaId, messages: [{ role: 'USER', content: 'planted' }] }),
    expectOwn: 404,
  },
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
    data(await query('feedback.listForSession', { chatSessionId: v.sessionId }, auth)),
  ]);
}

describe('tenant isolation matrix', () => {
  let victim: Victim;
  let attacker: Tenant;
  let revoked: Tenant;

  beforeAll(async () => {
    const tenant = await createTenant('Victim');
    const { persona, session } = await conversation(tenant, { greeting: 'Hello victim' });
    const reply = data<any>(
      await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'secret' }, { tenant }),
    );
    // As if its generator were still running (in another isolate): fresh progress, STREAMING.
    await createDb(env).execute(
      sql`update messages set status = 'STREAMING', updated_at = now() + interval '1 hour' where id = ${reply.id}`,
    );
    // A rated reply (the greeting), so rate/remove have a victim's rating to try to change.
    const greeting = data<any>(await query('chat.getSession', { id: session.id }, { tenant })).messages[0];
    data(await mutate('feedback.rate', { messageId: greeting.id, rating: 'UP' }, { tenant }));
    victim = { tenant, personaId: persona.id, sessionId: session.id, replyId: reply.id };
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
        entry.expectOwn(own.body, victim);
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
});
