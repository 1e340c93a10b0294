import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, authHeaders, createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { conversation } from './helpers/factories';
import { procedureKinds } from './helpers/procedures';
import { readSse } from './helpers/sse';
import { worker } from './helpers/worker';

type World = { tenant: Tenant; personaId: string; sessionId: string; replyId: string; sourceId: string };

/** Strings a hostile client would send: ids of both tenants, NUL, lone surrogates, huge, SQL-ish. */
function strings(victim: World, own: World) {
  return fc.oneof(
    fc.constantFrom(
      victim.personaId,
      victim.sessionId,
      victim.replyId,
      victim.sourceId,
      victim.tenant.organizationId,
      own.personaId,
      own.sessionId,
      own.replyId,
      own.sourceId,
      'text/plain',
      'application/pdf',
      'aGVsbG8=',
      '',
      ' ',
      'a\u0000b',
      'x\ud800y',
      "' OR 1=1 --",
      '{"$ne":null}',
      'ARCHIVED',
      'USER',
      'SYSTEM',
      'WEB',
      'x'.repeat(300),
      'UP',
      'DOWN',
      '2026-01-01T00:00:00Z',
      '2026-01-01',
      '2025-01-01',
      '2026-02-29',
      '0.5:msg_x',
      '"quoted phrase" or -not',
    ),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
  );
}

function values(victim: World, own: World) {
  const s = strings(victim, own);
  return fc.oneof(
    s,
    fc.integer(),
    fc.double(),
    fc.constantFrom(0, -1, 1e308, Number.MAX_SAFE_INTEGER, 2 ** 64),
    fc.boolean(),
    fc.constant(null),
    fc.array(s, { maxLength: 3 }),
    fc.dictionary(s, s, { maxKeys: 3 }),
  );
}

const FIELDS = [
  'id',
  'personaId',
  'chatSessionId',
  'messageId',
  'content',
  'role',
  'title',
  'status',
  'platform',
  'userId',
  'limit',
  'cursor',
  'offset',
  'name',
  'instructions',
  'temperature',
  'maxOutputTokens',
  'metadata',
  'attachments',
  'organizationId',
  'lastEventId',
  'includeAttachmentText',
  'greeting',
  'avatarUrl',
  'model',
  'rating',
  'reason',
  'comment',
  'query',
  'from',
  'to',
  'messages',
  'session',
  'filename',
  'mimeType',
  'data',
  'includeChunks',
  'chunksFrom',
  'chunksLimit',
];

async function call(path: string, type: string, input: unknown, tenant: Tenant) {
  if (type === 'query') return (await query(path, input, { tenant })).status;
  if (type === 'mutation') return (await mutate(path, input, { tenant })).status;
  const qs = encodeURIComponent(JSON.stringify(input) ?? 'null');
  const res = await worker.fetch(`http://api.test/api/trpc/${path}?input=${qs}`, { headers: authHeaders(tenant) });
  if (res.status !== 200) return res.status;
  const events = await readSse(res, (e) => e.event === 'serialized-error' || e.data?.type === 'reply');
  const error = events.find((e) => e.event === 'serialized-error');
  return error ? (error.data.data.httpStatus as number) : 200;
}

async function snapshot(w: World) {
  const auth = { tenant: w.tenant };
  return JSON.stringify([
    data(await query('persona.list', {}, auth)),
    data(await query('chat.getSession', { id: w.sessionId, includeAttachmentText: true }, auth)),
    data(await query('feedback.listForSession', { chatSessionId: w.sessionId }, auth)),
    data(await query('chat.listSessions', {}, auth)),
    data<{ id: string }[]>(await query('source.list', { personaId: w.personaId }, auth)).map((s) => s.id),
  ]);
}

/** A new key for the same organization: each procedure's run gets its own rate-limit budget. */
async function withFreshKey(w: World): Promise<World> {
  const key = await admin<{ id: string; key: string }>(`/organizations/${w.tenant.organizationId}/api-keys`, {
    name: 'fuzz',
  });
  return { ...w, tenant: { ...w.tenant, apiKey: key.body.key, apiKeyId: key.body.id } };
}

async function world(name: string): Promise<World> {
  const tenant = await createTenant(name);
  const { persona, session } = await conversation(tenant);
  const reply = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'hello' }, { tenant }));
  const source = data(
    await mutate(
      'source.add',
      { personaId: persona.id, filename: 'notes.txt', mimeType: 'text/plain', data: btoa('fuzz notes') },
      { tenant },
    ),
  );
  return { tenant, personaId: persona.id, sessionId: session.id, replyId: reply.id, sourceId: source.id };
}

describe('property-based fuzzing of every procedure', () => {
  let victimWorld: World;
  let ownWorld: World;
  beforeAll(async () => {
    victimWorld = await world('Fuzz victim');
    ownWorld = await world('Fuzz attacker');
  });

  for (const [path, type] of Object.entries(procedureKinds)) {
    it(`${path}: no 500, no cross-tenant effect, no partial write on refusal`, async () => {
      const victim = await withFreshKey(victimWorld);
      const own = await withFreshKey(ownWorld);
      const victimBefore = await snapshot(victim);
      const input = fc.oneof(
        values(victim, own),
        fc.dictionary(fc.constantFrom(...FIELDS), values(victim, own), { maxKeys: 6 }),
        fc.dictionary(fc.constantFrom(...FIELDS), values(victim, own), { maxKeys: 6 }).map((json) => ({ json })),
      );
      await fc.assert(
        fc.asyncProperty(input, async (payload) => {
          const before = await snapshot(own);
          const status = await call(path, type, payload, own.tenant);
          expect(status, `${path} ${JSON.stringify(payload)?.slice(0, 200)}`).toBeLessThan(500);
          if (status >= 400 && type !== 'query') expect(await snapshot(own)).toBe(before);
        }),
        { numRuns: 20, seed: 20261128 },
      );
      expect(await snapshot(victim)).toBe(victimBefore);
    });
  }

  it('POST /v1/chat/completions: no 500, no cross-tenant effect, no partial write on refusal', async () => {
    const victim = await withFreshKey(victimWorld);
    const own = await withFreshKey(ownWorld);
    const victimBefore = await snapshot(victim);
    const s = strings(victim, own);
    const message = fc.record(
      {
        role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'developer', 'tool'), s),
        content: fc.oneof(s, fc.constant(null), fc.array(fc.record({ type: s, text: s }), { maxLength: 2 })),
      },
      { requiredKeys: [] },
    );
    const body = fc.record(
      {
        model: fc.oneof(fc.constantFrom(victim.personaId, own.personaId), s, values(victim, own)),
        messages: fc.oneof(fc.array(message, { maxLength: 3 }), values(victim, own)),
        stream: fc.oneof(fc.boolean(), values(victim, own)),
        n: values(victim, own),
        tools: values(victim, own),
      },
      { requiredKeys: [] },
    );
    const sessionHeader = fc.option(fc.oneof(fc.constantFrom(victim.sessionId, own.sessionId), s), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(body, sessionHeader, async (payload, session) => {
        const before = await snapshot(own);
        const headers: Record<string, string> = {
          authorization: `Bearer ${own.tenant.apiKey}`,
          'content-type': 'application/json',
        };
        // Header values must be ByteStrings: what cannot be sent as a header is not a test of the API.
        if (session !== undefined && /^[\x20-\x7e]*$/.test(session)) headers['x-chat-session-id'] = session;
        const res = await worker.fetch('http://api.test/v1/chat/completions', {
          method: 'POST',
          headers,
          body: JSON.stringify(payload),
        });
        const text = await res.text();
        expect(res.status, `${JSON.stringify(payload)?.slice(0, 200)} ${text.slice(0, 200)}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(JSON.parse(text).error).toMatchObject({ message: expect.any(String), code: expect.any(String) });
          expect(await snapshot(own)).toBe(before);
        }
      }),
      { numRuns: 40, seed: 20261203 },
    );
    expect(await snapshot(victim)).toBe(victimBefore);
  });
});
