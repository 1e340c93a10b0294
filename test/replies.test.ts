import { describe, expect, it } from 'vitest';
import { createTenant, data, mutate } from './helpers/api';
import { getSession, metadataOf } from './helpers/chat';
import { conversation, marker, modelRequests } from './helpers/factories';
import { configureFakeModel, fakeModel } from './helpers/fake-model';

/** Replies through the unmodified @ai-sdk/openai provider against a local OpenAI-protocol server. */
describe('AI replies', () => {
  it('sends instructions and history, streams the reply and records usage (Responses API)', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { instructions: 'You are Captain Example. Be brief.' });
    const first = marker('first');
    const reply1 = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: first }, { tenant }));
    expect(reply1.content).toBe(`You said: ${first}. This is a streamed test reply.`);
    expect(reply1.status).toBe('COMPLETE');
    expect(reply1.metadata).toMatchObject({
      model: 'openai/gpt-4o-mini',
      offline: false,
      finishReason: 'stop',
      usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
      latencyMs: expect.any(Number),
      context: { messagesIncluded: 1, messagesOmitted: 0 },
    });
    expect(metadataOf(reply1).usage.inputTokens).toBeGreaterThan(0);

    const second = marker('second');
    data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: second }, { tenant }));
    const [req] = await modelRequests(second);
    expect(req?.path).toBe('/v1/responses');
    expect(req?.body.stream).toBe(true);
    const input = req?.body.input ?? [];
    expect(input[0]).toMatchObject({ role: 'system', content: 'You are Captain Example. Be brief.' });
    const flat = input.slice(1).map((m) => [m.role, JSON.stringify(m.content)]);
    expect(flat.map(([role]) => role)).toEqual(['user', 'assistant', 'user']);
    expect(flat[0]?.[1]).toContain(first);
    expect(flat[1]?.[1]).toContain(`You said: ${first}`);
    expect(flat[2]?.[1]).toContain(second);
  });

  it('speaks Chat Completions when OPENAI_API_STYLE=chat', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { instructions: 'Chat style persona.' });
    const m = marker('chat');
    const env = { OPENAI_API_STYLE: 'chat' };
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: m }, { tenant, env }));
    expect(reply.content).toBe(`You said: ${m}. This is a streamed test reply.`);
    expect(metadataOf(reply).usage.totalTokens).toBeGreaterThan(0);
    const [req] = await modelRequests(m);
    expect(req?.path).toBe('/v1/chat/completions');
    expect(req?.body.messages?.[0]).toEqual({ role: 'system', content: 'Chat style persona.' });
  });

  it('retries a 429 and then succeeds', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, {
      model: await fakeModel({ fail: { times: 2, status: 429 } }),
    });
    const m = marker('retry');
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: m }, { tenant }));
    expect(reply.status).toBe('COMPLETE');
    expect(await modelRequests(m)).toHaveLength(3);
    const got = await getSession(tenant, session.id);
    expect(got.messages.map((x) => [x.role, x.status])).toEqual([
      ['USER', 'COMPLETE'],
      ['ASSISTANT', 'COMPLETE'],
    ]);
  });

  it('answers 502 after bounded retries of a 500, keeping the user message and no complete reply', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { model: await fakeModel({ status: 500 }) });
    const m = marker('e500');
    const res = await mutate('chat.sendMessage', { chatSessionId: session.id, content: m }, { tenant });
    expect(res.status).toBe(502);
    expect(res.body.error?.message).toMatch(
      /HTTP 500 \(after 3 attempts\).*Your message was saved \(msg_.*\).*INCOMPLETE/,
    );
    expect(await modelRequests(m)).toHaveLength(3); // 1 + MODEL_MAX_RETRIES (2)
    const got = await getSession(tenant, session.id);
    expect(got.messages).toHaveLength(2);
    expect(got.messages[0]).toMatchObject({ role: 'USER', status: 'COMPLETE', content: m });
    expect(got.messages[1]).toMatchObject({ role: 'ASSISTANT', status: 'INCOMPLETE', content: '' });
    expect(got.messages[1]).toMatchObject({ metadata: { error: { code: 'MODEL_ERROR' } } });
  });

  it('answers 504 when the model stalls, keeping what arrived marked incomplete', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { model: await fakeModel({ stallAfter: 2 }) });
    const m = marker('stall');
    const res = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: m },
      { tenant, env: { MODEL_TIMEOUT_MS: '1000' } },
    );
    expect(res.status).toBe(504);
    expect(res.body.error?.message).toMatch(/did not respond within/);
    const got = await getSession(tenant, session.id);
    expect(got.messages[1]).toMatchObject({ role: 'ASSISTANT', status: 'INCOMPLETE', content: 'You said: ' });
    expect(got.messages[1]).toMatchObject({ metadata: { finishReason: 'timeout' } });
  });

  it('keeps a reply cut mid-stream as incomplete, and the next turn sees it marked so', async () => {
    const tenant = await createTenant();
    const model = await fakeModel({ delayMs: 20, cutAfter: 4 });
    const { session } = await conversation(tenant, { model });
    const m = marker('cut');
    const content = m;
    const res = await mutate('chat.sendMessage', { chatSessionId: session.id, content }, { tenant });
    expect(res.status).toBe(502);
    // The provider answered 200 and then broke off: that is what the message must say.
    expect(res.body.error?.message).toMatch(/the model stream ended before it finished/);
    expect(res.body.error?.message).not.toMatch(/HTTP 200/);
    const got = await getSession(tenant, session.id);
    expect(got.messages[1]).toMatchObject({
      status: 'INCOMPLETE',
      content: `You said: ${m}. This `,
      metadata: { error: { message: expect.stringMatching(/the model stream ended before it finished/) } },
    });

    await configureFakeModel(model, {});
    const next = marker('after-cut');
    data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: next }, { tenant }));
    const [req] = await modelRequests(next);
    const assistant = (req?.body.input ?? []).find((x) => x.role === 'assistant');
    expect(JSON.stringify(assistant?.content)).toContain('interrupted before it finished');
  });

  it('trims the oldest history to the token budget and records what was left out', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    for (let i = 0; i < 6; i++) {
      const content = `old message ${i} ${'lorem ipsum '.repeat(20)}`;
      data(await mutate('chat.sendMessage', { chatSessionId: session.id, content, role: 'SYSTEM' }, { tenant }));
    }
    const m = marker('budget');
    const reply = data(
      await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: m },
        // Room for two old messages once the system prompt's note on tags (about 200 tokens) is paid.
        { tenant, env: { CONTEXT_TOKEN_BUDGET: '400' } },
      ),
    );
    expect(metadataOf(reply).context.messagesOmitted).toBeGreaterThan(0);
    expect(metadataOf(reply).context.messagesIncluded + metadataOf(reply).context.messagesOmitted).toBe(7);
    const [req] = await modelRequests(m);
    const sent = JSON.stringify(req?.body.input);
    expect(sent).toContain(m);
    expect(sent).toContain('old message 5');
    expect(sent).not.toContain('old message 0');
  });

  it('falls back to the built-in offline model, clearly labelled, when no API key is configured', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { name: 'Offline Olive' });
    const m = marker('offline');
    const reply = data(
      await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: m },
        { tenant, env: { OPENAI_API_KEY: '' } },
      ),
    );
    expect(reply.metadata).toMatchObject({ model: 'offline/offline-echo-1', offline: true });
    expect(reply.content).toContain("I'm Offline Olive");
    expect(reply.content).toContain('offline model, not an AI');
    expect(reply.content).toContain(m);
    expect(await modelRequests(m)).toHaveLength(0);
  });
});
