import { abortAllDurableObjects, runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_WAITING_TURNS } from '../src/durable/chat-session';
import { createTenant, data, mutate, query } from './helpers/api';
import { messagesOf, subscribe, turnEvents, waitFor } from './helpers/chat';
import { conversation, marker, modelRequests } from './helpers/factories';
import { configureFakeModel, fakeModel } from './helpers/fake-model';
import { readSse, type SseData, type SseEvent } from './helpers/sse';

/**
 * The session's Durable Object owns its turns: generation outlives the client, listeners share one
 * buffer, stop is immediate, turns run in order, a dead object's turn is closed. Postgres is read
 * back after each; statements are counted at the driver's transport (the object runs in this
 * isolate under the test pool, so the counting fetch sees its requests too).
 */

let dbRequests = 0;
/** Driver and model requests in order: `db>` a statement sent, `db<` its answer, `model` a model request. */
let trace: ('db>' | 'db<' | 'model')[] = [];
const realFetch = globalThis.fetch;
beforeEach(() => {
  dbRequests = 0;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url === env.LOCAL_SQL_ENDPOINT) {
      dbRequests++;
      trace.push('db>');
      return realFetch(input, init).finally(() => trace.push('db<'));
    }
    if (url.startsWith(env.OPENAI_BASE_URL ?? '-')) trace.push('model');
    return realFetch(input, init);
  }) as typeof fetch;
});
afterEach(() => {
  globalThis.fetch = realFetch;
});

const deltaText = (events: SseData[]) =>
  events
    .filter((e) => e.type === 'delta')
    .map((e) => e.text)
    .join('');

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

describe('the session object owns its turns', () => {
  it('stores a COMPLETE reply after the client disconnects at the third delta', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { model: await fakeModel({ delayMs: 60 }) });
    const m = marker('gone');
    const res = await subscribe(tenant, 'chat.streamMessage', {
      chatSessionId: session.id,
      content: m,
    });
    const events = await readSse(res, (_e, all) => turnEvents(all).filter((x) => x.type === 'delta').length === 3);
    expect(turnEvents(events).map((e) => e.type)).toEqual(['message', 'delta', 'delta', 'delta']);
    const after = await waitFor(
      () => messagesOf(tenant, session.id),
      (x) => x[1]?.status !== 'STREAMING',
    );
    expect(after.map((x) => [x.role, x.status])).toEqual([
      ['USER', 'COMPLETE'],
      ['ASSISTANT', 'COMPLETE'],
    ]);
    expect(after[1]?.content).toBe(`You said: ${m}. This is a streamed test reply.`);
  });

  it('costs Postgres the same statements for a 10-word and a 2,000-word reply, listeners included', async () => {
    const tenant = await createTenant();
    const model = await fakeModel();
    const { session } = await conversation(tenant, { model });
    await query('chat.listSessions', { limit: 1 }, { tenant }); // warm the key cache
    const counts: Record<string, number> = {};
    for (const [name, n, listeners] of [
      ['short', 10, 0],
      ['long', 2_000, 0],
      ['long, 3 listeners', 2_000, 2],
    ] as const) {
      // 2,000 chunks 1 ms apart: longer than the old once-a-second progress saves.
      await configureFakeModel(model, { reply: words(n), delayMs: 1 });
      dbRequests = 0;
      const res = await subscribe(tenant, 'chat.streamMessage', {
        chatSessionId: session.id,
        content: name,
      });
      const extra: Promise<SseEvent[]>[] = [];
      const events = await readSse(res, (e) => {
        if (e.data?.type === 'message' && listeners > 0) {
          for (let i = 0; i < listeners; i++) {
            extra.push(
              subscribe(tenant, 'chat.streamMessage', {
                chatSessionId: session.id,
                content: 'ignored on resume',
                lastEventId: `${e.data.replyId}:0`,
              }).then((r) => readSse(r)),
            );
          }
        }
        return false;
      });
      const final = turnEvents(events).at(-1);
      expect(final).toMatchObject({ type: 'reply', message: { status: 'COMPLETE' } });
      expect(final.message.content.split(' ')).toHaveLength(n);
      for (const other of await Promise.all(extra)) {
        expect(deltaText(turnEvents(other))).toBe(final.message.content);
      }
      counts[name] = dbRequests;
    }
    // One statement batch stores the message, one stores the reply; listeners read the object.
    expect(counts).toEqual({ short: 2, long: 2, 'long, 3 listeners': 2 });
    const stored = await messagesOf(tenant, session.id);
    expect(stored.map((x) => x.status)).toEqual(Array(6).fill('COMPLETE'));
  }, 120_000);

  it('gives three listeners the same deltas', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { model: await fakeModel({ delayMs: 80 }) });
    const m = marker('fan');
    const res = await subscribe(tenant, 'chat.streamMessage', {
      chatSessionId: session.id,
      content: m,
    });
    const others: Promise<SseEvent[]>[] = [];
    const first = await readSse(res, (e) => {
      if (e.data?.type === 'message') {
        const replyId = e.data.replyId;
        others.push(subscribe(tenant, 'chat.resumeReply', { messageId: replyId, offset: 0 }).then((r) => readSse(r)));
        others.push(
          subscribe(tenant, 'chat.streamMessage', {
            chatSessionId: session.id,
            content: 'x',
            lastEventId: `${replyId}:0`,
          }).then((r) => readSse(r)),
        );
      }
      return false;
    });
    const all = [turnEvents(first), ...(await Promise.all(others)).map(turnEvents)];
    const final = all[0]?.at(-1);
    expect(final).toMatchObject({ type: 'reply', message: { status: 'COMPLETE' } });
    for (const events of all) {
      expect(deltaText(events)).toBe(final.message.content);
      expect(events.at(-1)).toEqual(final);
    }
    // After each listener caught up, every delta it got is one the sender got, at the same offset.
    const senderDeltas = (all[0] ?? []).filter((e) => e.type === 'delta').map((e) => `${e.offset}:${e.text}`);
    for (const events of all.slice(1)) {
      const live = events.filter((e) => e.type === 'delta').slice(1);
      expect(live.length).toBeGreaterThan(2);
      for (const d of live) expect(senderDeltas).toContain(`${d.offset}:${d.text}`);
    }
    expect(await modelRequests(m)).toHaveLength(1);
    expect((await messagesOf(tenant, session.id)).map((x) => x.status)).toEqual(['COMPLETE', 'COMPLETE']);
  });

  it('answers two overlapping sends in arrival order, each with the history up to its own message', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { model: await fakeModel({ delayMs: 60 }) });
    const a = marker('first');
    const b = marker('second');
    const firstRes = await subscribe(tenant, 'chat.streamMessage', {
      chatSessionId: session.id,
      content: a,
    });
    const firstEvents = readSse(firstRes);
    // The second arrives while the first is generating; it waits for its turn.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await mutate('chat.sendMessage', { chatSessionId: session.id, content: b }, { tenant });
    const secondReply = data(second);
    const firstReply = turnEvents(await firstEvents).at(-1).message;
    expect(firstReply.content).toBe(`You said: ${a}. This is a streamed test reply.`);
    expect(secondReply.content).toBe(`You said: ${b}. This is a streamed test reply.`);

    const [requestA] = await modelRequests(a).then((all) => all.filter((r) => !JSON.stringify(r.body).includes(b)));
    const [requestB] = await modelRequests(b);
    expect(requestA).toBeDefined();
    expect(requestB).toBeDefined();
    // B's prompt holds A's question and A's finished answer; A's prompt knew nothing of B.
    const bodyB = JSON.stringify(requestB?.body);
    expect(bodyB).toContain(a);
    expect(bodyB).toContain(firstReply.content);
    expect(requestB?.at ?? 0).toBeGreaterThanOrEqual(requestA?.at ?? Infinity);
    const stored = await messagesOf(tenant, session.id);
    expect(stored.map((x) => [x.role, x.content.slice(0, 30)])).toEqual([
      ['USER', a.slice(0, 30)],
      ['ASSISTANT', firstReply.content.slice(0, 30)],
      ['USER', b.slice(0, 30)],
      ['ASSISTANT', secondReply.content.slice(0, 30)],
    ]);
    expect(stored.map((x) => x.status)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE']);
  });

  it('applies a persona edit from the next turn on', async () => {
    const tenant = await createTenant();
    const { persona, session } = await conversation(tenant);
    const m1 = marker('before');
    data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: m1 }, { tenant }));
    const rule = marker('new-rule');
    data(await mutate('persona.update', { id: persona.id, instructions: `Always mention ${rule}.` }, { tenant }));
    const m2 = marker('after');
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: m2 }, { tenant }));
    const [before] = await modelRequests(m1);
    const after = await modelRequests(m2);
    expect(JSON.stringify(before?.body)).not.toContain(rule);
    // The object may have called the model early with the persona it remembered; that call was
    // abandoned unheard and the model called again with the edited persona.
    expect(after.filter((r) => JSON.stringify(r.body).includes(rule))).toHaveLength(1);
    expect(after.filter((r) => !JSON.stringify(r.body).includes(rule)).length).toBeLessThanOrEqual(1);
    expect(reply.metadata.personaVersion).toBe(persona.version + 1);
    expect((await messagesOf(tenant, session.id)).map((x) => x.status)).toEqual(Array(4).fill('COMPLETE'));
  });

  it('closes a turn INCOMPLETE, with the text it had saved, when its object dies mid-turn', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { model: await fakeModel({ delayMs: 250 }) });
    const m = marker('evicted');
    const res = await subscribe(tenant, 'chat.streamMessage', {
      chatSessionId: session.id,
      content: m,
    });
    // Six deltas take 1.5 s: the object has saved progress to its own storage at least once.
    const events = await readSse(res, (_e, all) => turnEvents(all).filter((x) => x.type === 'delta').length === 6);
    const replyId = turnEvents(events)[0].replyId as string;
    const received = deltaText(turnEvents(events));
    expect((await messagesOf(tenant, session.id))[1]).toMatchObject({ id: replyId, status: 'STREAMING' });

    // The object dies (in-memory state gone, storage kept), as on eviction or a crash.
    await abortAllDurableObjects();
    const stub = env.CHAT_SESSIONS.get(env.CHAT_SESSIONS.idFromName(`${tenant.organizationId}:${session.id}`));
    // Its next activation is the alarm set at turn start.
    await runDurableObjectAlarm(stub);

    const reply = (await messagesOf(tenant, session.id))[1];
    expect(reply).toMatchObject({ id: replyId, status: 'INCOMPLETE', metadata: { error: { code: 'ABANDONED' } } });
    expect(reply?.content.length).toBeGreaterThan(0);
    expect(received.startsWith(String(reply?.content))).toBe(true);
    // The statement that closed it counted it as a finished reply in the usage.
    const usage = async () => {
      const today = new Date().toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      return data(await query('usage.get', { from: yesterday, to: today }, { tenant })).totals;
    };
    expect(await usage()).toMatchObject({ messages: 1, modelCalls: 1, replies: 1 });
    // The session takes the next message normally.
    const next = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'again' }, { tenant }));
    expect(next.status).toBe('COMPLETE');
    expect(await usage()).toMatchObject({ messages: 2, modelCalls: 2, replies: 2 });
  });

  it(`refuses sends beyond ${MAX_WAITING_TURNS} waiting on one session with 429, storing nothing for them`, async () => {
    const tenant = await createTenant();
    const model = await fakeModel({ delayMs: 300 });
    const { session } = await conversation(tenant, { model });
    const slow = marker('slow');
    // The first turn takes about 3 s; everything sent meanwhile waits behind it.
    const first = await subscribe(tenant, 'chat.streamMessage', { chatSessionId: session.id, content: slow });
    const reader = (first.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    // Its message is stored: the turn is running before the others are sent.
    while (!text.includes('"type":"message"')) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`stream ended early: ${text}`);
      text += value;
    }
    // Once the slow turn has reached the model, the waiting ones may answer at once.
    await waitFor(
      () => modelRequests(slow),
      (r) => r.length > 0,
    );
    await configureFakeModel(model, {});
    const rest = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += value;
      }
    })();
    const extra = 4;
    const sends = await Promise.all(
      Array.from({ length: MAX_WAITING_TURNS - 1 + extra }, (_, i) =>
        mutate('chat.sendMessage', { chatSessionId: session.id, content: `queued ${i}` }, { tenant }),
      ),
    );
    const refused = sends.filter((r) => r.status === 429);
    expect(refused).toHaveLength(extra);
    expect(refused[0]?.headers.get('retry-after')).toBe('5');
    expect(sends.filter((r) => r.status === 200)).toHaveLength(MAX_WAITING_TURNS - 1);
    expect(await rest).toMatch(/"type":"reply".*"status":"COMPLETE"/);
    const stored = await messagesOf(tenant, session.id);
    expect(stored).toHaveLength(2 * MAX_WAITING_TURNS);
    expect(stored.every((x) => x.status === 'COMPLETE')).toBe(true);
  }, 60_000);

  it('calls the model before the first round trip on a warm session, releasing text only after the commit', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    await query('chat.listSessions', { limit: 1 }, { tenant }); // warm the key cache
    trace = [];
    data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'cold' }, { tenant }));
    expect(trace).toEqual(['db>', 'db<', 'model', 'db>', 'db<']);
    trace = [];
    const m = marker('warm');
    const res = await subscribe(tenant, 'chat.streamMessage', { chatSessionId: session.id, content: m });
    const events = turnEvents(await readSse(res));
    // The model request went out before the statement storing the message had answered; one more
    // statement stored the reply.
    expect(trace).toEqual(['db>', 'model', 'db<', 'db>', 'db<']);
    expect(events[0]).toMatchObject({ type: 'message', message: { role: 'USER', status: 'COMPLETE' } });
    expect(
      events
        .map((e) => e.type)
        .slice(1, -1)
        .every((t) => t === 'delta'),
    ).toBe(true);
    const final = events.at(-1);
    expect(final.message.content).toBe(`You said: ${m}. This is a streamed test reply.`);
    expect(deltaText(events)).toBe(final.message.content);
    // The early call's prompt was the full history, exactly as a cold turn would have built it.
    const [request] = await modelRequests(m);
    expect(JSON.stringify(request?.body)).toContain('cold');
    expect(await modelRequests(m)).toHaveLength(1);

    // A refused send aborts the early call and stores nothing.
    data(await mutate('chat.updateSession', { id: session.id, status: 'ARCHIVED' }, { tenant }));
    const refused = await mutate('chat.sendMessage', { chatSessionId: session.id, content: marker('no') }, { tenant });
    expect(refused.status).toBe(409);
    const stored = await messagesOf(tenant, session.id);
    expect(stored.map((x) => x.status)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE']);
  });
});
