import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import { authHeaders, createTenant, data, mutate, type Tenant } from './helpers/api';
import { defined } from './helpers/assert';
import { getSession, subscribe, turnEvents, waitFor } from './helpers/chat';
import { conversation, marker, modelRequests } from './helpers/factories';
import { configureFakeModel, fakeModel } from './helpers/fake-model';
import { readSse } from './helpers/sse';
import { BASE, worker } from './helpers/worker';

describe('streamed replies (tRPC subscription over SSE)', () => {
  it('sends the stored user message, then deltas as they are generated, then the stored reply', async () => {
    const tenant = await createTenant();
    const { session: s } = await conversation(tenant, { model: await fakeModel({ delayMs: 25 }) });
    const m = marker('sse');
    const res = await subscribe(tenant, 'chat.streamMessage', { chatSessionId: s.id, content: m });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await readSse(res);
    const turn = turnEvents(events);
    expect(turn[0]).toMatchObject({ type: 'message', message: { role: 'USER', status: 'COMPLETE' } });
    const deltas = turn.filter((e) => e.type === 'delta');
    const final = turn.at(-1);
    expect(final).toMatchObject({ type: 'reply', message: { role: 'ASSISTANT', status: 'COMPLETE' } });
    expect(deltas.map((d) => d.text).join('')).toBe(final.message.content);
    expect(final.message.content).toBe(`You said: ${m}. This is a streamed test reply.`);
    // Incremental: the deltas came in several separate reads before the final event.
    const finalChunk = events.find((e) => e.data?.type === 'reply')?.chunk ?? 0;
    const deltaChunks = new Set(
      events.filter((e) => e.data?.type === 'delta' && e.chunk < finalChunk).map((e) => e.chunk),
    );
    expect(deltaChunks.size).toBeGreaterThanOrEqual(3);
    // Event ids say where the client is in the reply.
    expect(events.find((e) => e.data?.type === 'reply')?.id).toBe(`${final.message.id}:done`);
    expect((await getSession(tenant, s.id)).messages.map((x) => x.status)).toEqual(['COMPLETE', 'COMPLETE']);
  });

  it('stores the complete reply even when the client disconnects mid-stream', async () => {
    const tenant = await createTenant();
    const { session: s } = await conversation(tenant, { model: await fakeModel({ delayMs: 40 }) });
    const m = marker('leave');
    const res = await subscribe(tenant, 'chat.streamMessage', { chatSessionId: s.id, content: m });
    const events = await readSse(res, (e) => e.data?.type === 'delta');
    expect(turnEvents(events).map((e) => e.type)).toEqual(['message', 'delta']);
    const after = await waitFor(
      () => getSession(tenant, s.id),
      (x) => x.messages[1]?.status !== 'STREAMING',
    );
    expect(after.messages[1]).toMatchObject({
      role: 'ASSISTANT',
      status: 'COMPLETE',
      content: `You said: ${m}. This is a streamed test reply.`,
    });
  });

  it('keeps the user message and the partial reply marked incomplete when the provider fails mid-stream', async () => {
    const tenant = await createTenant();
    const { session: s } = await conversation(tenant, { model: await fakeModel({ delayMs: 20, cutAfter: 3 }) });
    const m = marker('fail');
    const res = await subscribe(tenant, 'chat.streamMessage', {
      chatSessionId: s.id,
      content: m,
    });
    const turn = turnEvents(await readSse(res));
    const final = turn.at(-1);
    expect(final).toMatchObject({ type: 'reply', message: { status: 'INCOMPLETE', content: `You said: ${m}. ` } });
    expect(final.message.metadata.error.code).toBe('MODEL_ERROR');
    const stored = await getSession(tenant, s.id);
    expect(stored.messages.map((x) => [x.role, x.status])).toEqual([
      ['USER', 'COMPLETE'],
      ['ASSISTANT', 'INCOMPLETE'],
    ]);
  });

  it('stops a reply in flight and keeps what was generated, marked stopped', async () => {
    const tenant = await createTenant();
    const { session: s } = await conversation(tenant, { model: await fakeModel({ delayMs: 150 }) });
    const res = await subscribe(tenant, 'chat.streamMessage', {
      chatSessionId: s.id,
      content: marker(),
    });
    let stopped: ReturnType<typeof mutate<'chat.stopReply'>> | undefined;
    const events = await readSse(res, (e, all) => {
      if (e.data?.type === 'delta' && !stopped) {
        const replyId = e.data.replyId;
        stopped = mutate('chat.stopReply', { messageId: replyId }, { tenant });
      }
      return all.length > 40;
    });
    const stopResult = data(await defined(stopped));
    expect(stopResult.status).toBe('STOPPED');
    const final = turnEvents(events).at(-1);
    expect(final).toMatchObject({ type: 'reply', message: { status: 'STOPPED' } });
    expect(final.message.content.length).toBeGreaterThan(0);
    expect(final.message.content.length).toBeLessThan(`You said: x. This is a streamed test reply.`.length);
    const stored = (await getSession(tenant, s.id)).messages[1];
    expect(stored).toMatchObject({ status: 'STOPPED', content: final.message.content });
    // Stopping again is harmless; stopping a finished reply is a conflict.
    expect((await mutate('chat.stopReply', { messageId: stored?.id }, { tenant })).status).toBe(200);
  });

  it('stops a reply from another connection: the session object ends it at once, STOPPED', async () => {
    const tenant = await createTenant();
    const { session: s } = await conversation(tenant, { model: await fakeModel({ delayMs: 300 }) });
    const full = `You said: x. This is a streamed test reply.`;
    const res = await subscribe(tenant, 'chat.streamMessage', {
      chatSessionId: s.id,
      content: 'x',
    });
    let replyId = '';
    let stopMs = 0;
    let stopped: ReturnType<typeof mutate<'chat.stopReply'>> | undefined;
    const events = await readSse(res, (e) => {
      if (e.data?.type === 'delta' && !stopped) {
        replyId = e.data.replyId;
        // Another app instance (as another isolate would be): it reaches the object by its binding.
        const started = Date.now();
        stopped = mutate('chat.stopReply', { messageId: replyId }, { tenant, env: {} }).then((r) => {
          stopMs = Date.now() - started;
          return r;
        });
      }
      return false;
    });
    const answer = data(await defined(stopped));
    expect(answer).toMatchObject({ id: replyId, status: 'STOPPED' });
    // The next chunk was 300 ms away; the stop did not wait for the model (generous margin).
    expect(stopMs).toBeLessThan(1_000);
    const final = turnEvents(events).at(-1);
    expect(final).toMatchObject({ type: 'reply', message: { id: replyId, status: 'STOPPED' } });
    expect(final.message.content.length).toBeLessThan(full.length);
    expect(turnEvents(events).filter((e) => e.type === 'delta').length).toBeLessThan(3);
    const stored = (await getSession(tenant, s.id)).messages[1];
    expect(stored).toMatchObject({ status: 'STOPPED', content: final.message.content });
  });

  it('lets a client that lost its connection resume and get the whole reply once, without generating twice', async () => {
    const tenant = await createTenant();
    const { session: s } = await conversation(tenant, { model: await fakeModel({ delayMs: 120 }) });
    const m = marker('resume');
    const input = { chatSessionId: s.id, content: m };
    const first = await readSse(await subscribe(tenant, 'chat.streamMessage', input), (e) => e.data?.type === 'delta');
    const lastEventId = first.at(-1)?.id;
    expect(lastEventId).toMatch(/^msg_[0-9A-Z]{26}:\d+$/);
    const received = turnEvents(first)
      .filter((e) => e.type === 'delta')
      .map((e) => e.text)
      .join('');

    // httpSubscriptionLink reconnects with the same input plus lastEventId.
    const resumed = turnEvents(await readSse(await subscribe(tenant, 'chat.streamMessage', { ...input, lastEventId })));
    const rest = resumed
      .filter((e) => e.type === 'delta')
      .map((e) => e.text)
      .join('');
    const final = resumed.at(-1);
    expect(final).toMatchObject({ type: 'reply', message: { status: 'COMPLETE' } });
    expect(received + rest).toBe(final.message.content);
    expect(final.message.content).toBe(`You said: ${m}. This is a streamed test reply.`);
    expect(await modelRequests(m)).toHaveLength(1);
    const stored = await getSession(tenant, s.id);
    expect(stored.messages).toHaveLength(2);

    // A finished reply can be fetched the same way, from any offset.
    const fetched = turnEvents(
      await readSse(await subscribe(tenant, 'chat.resumeReply', { messageId: final.message.id, offset: 0 })),
    );
    expect(fetched.map((e) => e.type)).toEqual(['delta', 'reply']);
    expect(fetched[0].text).toBe(final.message.content);
  });

  it('refuses before streaming when the session cannot take the message', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const { session: s } = await conversation(tenant);
    const res = await subscribe(other, 'chat.streamMessage', { chatSessionId: s.id, content: 'hi' });
    const events = await readSse(res);
    const error = events.find((e) => e.event === 'serialized-error');
    expect(error?.data).toMatchObject({ data: { httpStatus: 404 } });
    expect((await getSession(tenant, s.id)).messages).toEqual([]);
  });
});

describe('AI SDK UI message stream (useChat + DefaultChatTransport)', () => {
  function transport(tenant: Tenant) {
    return new DefaultChatTransport<UIMessage>({
      api: `${BASE}/api/chat`,
      headers: authHeaders(tenant),
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        worker.fetch(new Request(input as string, init))) as typeof fetch,
    });
  }

  it('completes a turn and streams text parts incrementally', async () => {
    const tenant = await createTenant();
    const { session: s } = await conversation(tenant, { model: await fakeModel({ delayMs: 10 }) });
    const m = marker('ui');
    const stream = await transport(tenant).sendMessages({
      trigger: 'submit-message',
      chatId: s.id,
      messageId: undefined,
      messages: [{ id: 'local-1', role: 'user', parts: [{ type: 'text', text: m }] }],
      abortSignal: undefined,
    });
    const chunks: UIMessageChunk[] = [];
    const [forChunks, forMessage] = stream.tee();
    const reader = forChunks.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    let assembled: UIMessage | undefined;
    for await (const message of readUIMessageStream({ stream: forMessage })) assembled = message;
    const deltas = chunks.filter((c) => c.type === 'text-delta');
    expect(deltas.length).toBeGreaterThan(3);
    expect(chunks.at(-1)).toMatchObject({ type: 'finish' });
    const text = assembled?.parts.find((p) => p.type === 'text');
    expect(text).toMatchObject({ type: 'text', text: `You said: ${m}. This is a streamed test reply.` });
    const stored = await getSession(tenant, s.id);
    expect(stored.messages.map((x) => [x.role, x.status])).toEqual([
      ['USER', 'COMPLETE'],
      ['ASSISTANT', 'COMPLETE'],
    ]);
    expect(assembled?.id).toBe(stored.messages[1]?.id);
  });

  it('answers refusals with a JSON error and status before streaming', async () => {
    const tenant = await createTenant();
    const res = await worker.fetch(`${BASE}/api/chat`, {
      method: 'POST',
      headers: { ...authHeaders(tenant), 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'session_missing',
        messages: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }],
      }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error?: { message?: string } }).error?.message).toMatch(/not found/);
    const noAuth = await worker.fetch(`${BASE}/api/chat`, { method: 'POST', body: '{}' });
    expect(noAuth.status).toBe(401);
  });

  it('resumes the reply being generated, and answers 204 when there is none', async () => {
    const tenant = await createTenant();
    const { session: s } = await conversation(tenant, { model: await fakeModel({ delayMs: 100 }) });
    const none = await worker.fetch(`${BASE}/api/chat/${s.id}/stream`, { headers: authHeaders(tenant) });
    expect(none.status).toBe(204);
    const m = marker('ui-resume');
    const sending = await worker.fetch(`${BASE}/api/chat`, {
      method: 'POST',
      headers: { ...authHeaders(tenant), 'content-type': 'application/json' },
      body: JSON.stringify({
        id: s.id,
        messages: [{ role: 'user', parts: [{ type: 'text', text: m }] }],
      }),
    });
    await readSse(sending, (e) => e.data?.type === 'text-delta');
    const resumed = await worker.fetch(`${BASE}/api/chat/${s.id}/stream`, { headers: authHeaders(tenant) });
    expect(resumed.status).toBe(200);
    const chunks = (await readSse(resumed)).map((e) => e.data).filter((d) => d && typeof d === 'object');
    const text = chunks
      .filter((c) => c.type === 'text-delta')
      .map((c) => c.delta)
      .join('');
    expect(text).toBe(`You said: ${m}. This is a streamed test reply.`);
    expect(chunks.at(-1)).toMatchObject({ type: 'finish' });
    expect(await modelRequests(m)).toHaveLength(1);
  });

  it('stops on the server through POST /api/chat/:id/stop; closing the connection (useChat stop()) does not', async () => {
    const tenant = await createTenant();
    const model = await fakeModel({ delayMs: 40 });
    const { session: s } = await conversation(tenant, { model });
    const send = (text: string, signal?: AbortSignal) =>
      worker.fetch(`${BASE}/api/chat`, {
        method: 'POST',
        headers: { ...authHeaders(tenant), 'content-type': 'application/json' },
        body: JSON.stringify({ id: s.id, messages: [{ role: 'user', parts: [{ type: 'text', text }] }] }),
        ...(signal ? { signal } : {}),
      });
    // useChat's stop() aborts its fetch: "I left". The reply goes on and is stored COMPLETE.
    const left = marker('left');
    await readSse(await send(left), (e) => e.data?.type === 'text-delta');
    const afterLeaving = await waitFor(
      () => getSession(tenant, s.id),
      (x) => x.messages[1]?.status !== 'STREAMING',
    );
    expect(afterLeaving.messages[1]).toMatchObject({ status: 'COMPLETE' });

    // The documented one-liner: stop: () => fetch(`/api/chat/${id}/stop`, { method: 'POST', headers }).
    await configureFakeModel(model, { delayMs: 300 });
    const stopping = await send(marker('stop'));
    let stopAnswer: Promise<Response> | undefined;
    const chunks = await readSse(stopping, (e) => {
      if (e.data?.type === 'text-delta' && !stopAnswer) {
        stopAnswer = worker.fetch(`${BASE}/api/chat/${s.id}/stop`, { method: 'POST', headers: authHeaders(tenant) });
      }
      return false;
    });
    if (!stopAnswer) throw new Error('no delta arrived before the stream ended');
    const answered = await stopAnswer;
    expect(answered.status).toBe(200);
    const reply = (await answered.json()) as { id: string; status: string };
    expect(reply.status).toBe('STOPPED');
    expect(
      chunks
        .map((c) => c.data)
        .filter((d) => typeof d === 'object')
        .at(-1),
    ).toMatchObject({
      type: 'finish',
      finishReason: 'other',
    });
    expect((await getSession(tenant, s.id)).messages[3]).toMatchObject({ id: reply.id, status: 'STOPPED' });
    // Nothing is being generated now.
    const none = await worker.fetch(`${BASE}/api/chat/${s.id}/stop`, { method: 'POST', headers: authHeaders(tenant) });
    expect(none.status).toBe(204);
  });
});
