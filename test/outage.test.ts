import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../src/env';
import { closeAbandonedRepliesJob } from '../src/scheduled/close-abandoned-replies';
import { authHeaders, createTenant, data, query } from './helpers/api';
import { defined } from './helpers/assert';
import { enc } from './helpers/chat';
import { conversation, marker } from './helpers/factories';
import { fakeModel } from './helpers/fake-model';
import { endOutages, isolatedDatabase, setOutage, sqlRequest, stageOutage } from './helpers/sql-endpoint';
import { readSse, type SseEvent } from './helpers/sse';
import { BASE, fetchWithEnv } from './helpers/worker';

afterEach(async () => {
  await endOutages();
  vi.restoreAllMocks();
});

/** A Worker whose database requests carry their own user, so this test can stop "the database" for itself. */
function isolatedWorker() {
  const { user, url } = isolatedDatabase('outage');
  const vars: Partial<Env> = { DATABASE_URL: url, AUTH_CACHE_TTL_SECONDS: '600' };
  return { user, fetch: (path: string, init: RequestInit = {}) => fetchWithEnv(new Request(BASE + path, init), vars) };
}

describe('the database stops in the middle of a streamed reply', () => {
  for (const mode of ['refuse', 'drop'] as const) {
    it(`(${mode}) ends the stream with 503 + retryAfter, answers 503 + Retry-After meanwhile, loses nothing, and the reply is closed after recovery`, async () => {
      vi.spyOn(console, 'warn').mockImplementation(() => {});
      vi.spyOn(console, 'error').mockImplementation(() => {});
      const tenant = await createTenant();
      const { session } = await conversation(tenant, { model: await fakeModel({ delayMs: 150 }) });
      const db = isolatedWorker();
      const m = marker('outage');
      const stream = await db.fetch(
        `/api/trpc/chat.streamMessage?input=${enc({ chatSessionId: session.id, content: m })}`,
        { headers: authHeaders(tenant) },
      );
      let stopped = false;
      const events = await readSse(stream.res, (event: SseEvent) => {
        if (!stopped && event.data?.type === 'delta') {
          stopped = true;
          // By organization id: the session's Durable Object, which writes the reply, loses it too.
          void stageOutage(tenant.organizationId, mode);
        }
        return event.event === 'serialized-error' || event.data?.type === 'reply';
      });
      await stream.done();
      const failure = events.find((e) => e.event === 'serialized-error');
      expect(events.some((e) => e.data?.type === 'message')).toBe(true);
      expect(failure?.data).toMatchObject({
        data: { httpStatus: 503, appCode: 'DATABASE_UNAVAILABLE', retryAfter: 5 },
        message: /database is unavailable/,
      });

      // While it is down: every path says 503 and when to come back.
      const list = await db.fetch(`/api/trpc/chat.listSessions?input=${enc({})}`, { headers: authHeaders(tenant) });
      expect(list.res.status).toBe(503);
      expect(list.res.headers.get('retry-after')).toBe('5');
      const chat = await db.fetch('/api/chat', {
        method: 'POST',
        headers: { ...authHeaders(tenant), 'content-type': 'application/json' },
        body: JSON.stringify({ id: session.id, messages: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }] }),
      });
      expect(chat.res.status).toBe(503);
      expect(chat.res.headers.get('retry-after')).toBe('5');
      const again = await db.fetch(
        `/api/trpc/chat.streamMessage?input=${enc({ chatSessionId: session.id, content: 'during the outage' })}`,
        { headers: authHeaders(tenant) },
      );
      const refused = (await readSse(again.res)).find((e) => e.event === 'serialized-error');
      expect(refused?.data).toMatchObject({ data: { httpStatus: 503, retryAfter: 5 } });
      await Promise.all([list.done(), chat.done(), again.done()]);

      // Recovery: the user's message is there, complete; nothing sent during the outage was stored.
      await setOutage(db.user, null);
      await setOutage(tenant.organizationId, null);
      let messages = data(await query('chat.getSession', { id: session.id }, { tenant })).messages;
      expect(messages.map((x) => [x.role, x.status])).toEqual([
        ['USER', 'COMPLETE'],
        ['ASSISTANT', 'STREAMING'],
      ]);
      expect(messages[0]?.content).toBe(m);
      // Its reply lost its generator's final save; the sweeper closes it once it has been silent long enough.
      await sqlRequest({
        query: "update messages set updated_at = now() - interval '10 minutes' where id = $1",
        params: [defined(messages[1]).id],
      });
      await closeAbandonedRepliesJob({ cron: 'test', scheduledTime: Date.now(), noRetry() {} }, env, {
        requestId: 'test',
      });
      messages = data(await query('chat.getSession', { id: session.id }, { tenant })).messages;
      expect(messages[1]).toMatchObject({ status: 'INCOMPLETE', metadata: { error: { code: 'ABANDONED' } } });
    });
  }
});

describe('the database stops in the middle of a useChat stream (POST /api/chat)', () => {
  it('ends the stream with an error chunk saying the database is unavailable and when to retry', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { model: await fakeModel({ delayMs: 150 }) });
    const db = isolatedWorker();
    const m = marker('outage-ui');
    const sent = await db.fetch('/api/chat', {
      method: 'POST',
      headers: { ...authHeaders(tenant), 'content-type': 'application/json' },
      body: JSON.stringify({
        id: session.id,
        messages: [{ role: 'user', parts: [{ type: 'text', text: m }] }],
      }),
    });
    expect(sent.res.status).toBe(200);
    let stopped = false;
    const chunks = await readSse(sent.res, (event: SseEvent) => {
      if (!stopped && event.data?.type === 'text-delta') {
        stopped = true;
        void stageOutage(tenant.organizationId, 'refuse');
      }
      return event.data?.type === 'error' || event.data?.type === 'finish';
    });
    await sent.done();
    expect(chunks.find((c) => c.data?.type === 'error')?.data).toMatchObject({
      errorText: 'The database is unavailable. Please retry in 5 s.',
    });
  });
});
