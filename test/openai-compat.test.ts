import { env } from 'cloudflare:workers';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../src/env';
import { createTenant, data, query, request, type Tenant } from './helpers/api';
import { conversation, createPersona, marker, modelRequests } from './helpers/factories';
import { configureFakeModel, type FakeBehaviour, fakeModel } from './helpers/fake-model';
import { BASE, fetchWithEnv, worker } from './helpers/worker';

/** The official client, its requests sent to the Worker under test (with other settings when given). */
function client(apiKey: string, options: { headers?: Record<string, string>; env?: Partial<Env> } = {}) {
  const fetchWorker = async (input: string | URL | Request, init?: RequestInit) => {
    const req = new Request(input, init);
    if (!options.env) return worker.fetch(req);
    return (await fetchWithEnv(req, options.env)).res;
  };
  return new OpenAI({
    apiKey,
    baseURL: `${BASE}/v1`,
    fetch: fetchWorker as typeof fetch,
    maxRetries: 0,
    ...(options.headers ? { defaultHeaders: options.headers } : {}),
  });
}

function raw(path: string, init: RequestInit & { key?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  if (init.body) headers.set('content-type', 'application/json');
  return worker.fetch(`${BASE}${path}`, { ...init, headers });
}

describe('OpenAI-compatible endpoint', () => {
  let tenant: Tenant;
  let other: Tenant;
  let personaId: string;
  let otherPersonaId: string;
  let otherSessionId: string;

  /** Another persona of `tenant` with the same instructions, answered by a fake model behaving so. */
  const personaWith = async (behaviour: FakeBehaviour) =>
    (
      await createPersona(tenant, {
        name: 'Compat Bot',
        instructions: 'Persona rules here.',
        model: await fakeModel(behaviour),
      })
    ).id;

  beforeAll(async () => {
    tenant = await createTenant('OpenAI client org');
    other = await createTenant('Other org');
    personaId = (await createPersona(tenant, { name: 'Compat Bot', instructions: 'Persona rules here.' })).id;
    const theirs = await conversation(other, { name: 'Their Bot' });
    otherPersonaId = theirs.persona.id;
    otherSessionId = theirs.session.id;
  });

  it('lists the organization’s personas as models, and only those', async () => {
    const openai = client(tenant.apiKey);
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain(personaId);
    expect(ids).not.toContain(otherPersonaId);
    const one = await openai.models.retrieve(personaId);
    expect(one).toMatchObject({ id: personaId, object: 'model', owned_by: tenant.organizationId });
    await expect(openai.models.retrieve(otherPersonaId)).rejects.toMatchObject({ status: 404 });
  });

  it('answers a stateless completion with the persona’s instructions and the request’s messages', async () => {
    const m = marker('stateless');
    const openai = client(tenant.apiKey);
    const model = await personaWith({ reply: 'Hi from the persona' });
    const completion = await openai.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: `Also: be brief ${m}` },
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
        { role: 'user', content: m },
      ],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(model);
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Hi from the persona' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    const [sent] = await modelRequests(m);
    const body = JSON.stringify(sent?.body);
    // The persona's instructions come first, then the request's system message; the history is the request's.
    expect(body.indexOf('Persona rules here.')).toBeGreaterThanOrEqual(0);
    expect(body.indexOf('Persona rules here.')).toBeLessThan(body.indexOf(`Also: be brief ${m}`));
    expect(body).toContain('first answer');
    // Nothing was stored: the organization has no session.
    expect(data(await query('chat.listSessions', {}, { tenant }))).toHaveLength(0);
  });

  it('streams chat.completion.chunk events ending in [DONE], through the official client', async () => {
    const openai = client(tenant.apiKey);
    const stream = await openai.chat.completions.create({
      model: await personaWith({ reply: 'one two three four' }),
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'count to four' }],
    });
    const deltas: string[] = [];
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.join('')).toBe('one two three four');
    expect(deltas.length).toBeGreaterThan(1);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) });

    const res = await raw('/v1/chat/completions', {
      method: 'POST',
      key: tenant.apiKey,
      body: JSON.stringify({ model: personaId, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect((await res.text()).trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('stores the turn in a session given X-Chat-Session-ID: only the last user message, answered from stored history', async () => {
    const model = await fakeModel({ reply: 'stored answer' });
    const { session } = await conversation(tenant, { name: 'Session Bot', model });
    const sessionPersona = data(await query('chat.getSession', { id: session.id }, { tenant })).persona?.id;
    const m = marker('session');
    const openai = client(tenant.apiKey, { headers: { 'X-Chat-Session-ID': session.id } });
    const stream = await openai.chat.completions.create({
      model: sessionPersona,
      stream: true,
      messages: [
        { role: 'user', content: 'not stored: the session holds the history' },
        { role: 'user', content: m },
      ],
    });
    let text = '';
    let id = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      id = chunk.id;
    }
    expect(text).toBe('stored answer');
    const stored = data(await query('chat.getSession', { id: session.id }, { tenant }));
    const contents = stored.messages.map((msg) => msg.content);
    expect(contents).toContain(m);
    expect(contents).toContain('stored answer');
    expect(contents).not.toContain('not stored: the session holds the history');
    // The completion's id is the stored reply's.
    expect(stored.messages.find((msg) => msg.content === 'stored answer')?.id).toBe(id);

    // A second, non-streamed turn sees the first in its history (read from the session, not the request).
    await configureFakeModel(model, {});
    const m2 = marker('session2');
    const second = await openai.chat.completions.create({
      model: sessionPersona,
      messages: [{ role: 'user', content: `again ${m2}` }],
    });
    expect(second.choices[0]?.message.content).toContain(`again ${m2}`);
    const [sent] = await modelRequests(m2);
    expect(JSON.stringify(sent?.body)).toContain('stored answer');
  });

  it('refuses in OpenAI’s error shape with the right statuses', async () => {
    const post = (key: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
      raw('/v1/chat/completions', { method: 'POST', body: JSON.stringify(body), headers, ...(key ? { key } : {}) });
    const ok = { model: personaId, messages: [{ role: 'user', content: 'hi' }] };
    const cases: [Promise<Response>, number, string][] = [
      [post(undefined, ok), 401, 'invalid_api_key'],
      [post('pk_wrongwrongwrongwrongwrongwrongwr', ok), 401, 'invalid_api_key'],
      [post(tenant.apiKey, { ...ok, model: otherPersonaId }), 404, 'model_not_found'],
      [post(tenant.apiKey, { ...ok, messages: [] }), 400, 'bad_request'],
      [post(tenant.apiKey, { ...ok, messages: [{ role: 'assistant', content: 'x' }] }), 400, 'bad_request'],
      [post(tenant.apiKey, { ...ok, tools: [{ type: 'function' }] }), 400, 'bad_request'],
      [
        post(tenant.apiKey, { ...ok, messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }),
        400,
        'bad_request',
      ],
      [post(tenant.apiKey, ok, { 'x-chat-session-id': otherSessionId }), 404, 'not_found'],
      [post(other.apiKey, { ...ok, model: otherPersonaId }, { 'x-chat-session-id': 'session_nope' }), 404, 'not_found'],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      const body = (await res.json()) as { error?: unknown };
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(body.error).toMatchObject({ code, message: expect.any(String), type: expect.any(String) });
    }
    // The other organization's session is untouched.
    const theirs = data(await query('chat.getSession', { id: otherSessionId }, { tenant: other }));
    expect(theirs.messages.filter((msg) => msg.role === 'USER')).toHaveLength(0);
    // Through the client, refusals are OpenAI errors.
    await expect(
      client(tenant.apiKey).chat.completions.create({
        model: otherPersonaId,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('refuses an oversized body (413) and a session of another persona (400), in OpenAI’s shape', async () => {
    const small = client(tenant.apiKey, { env: { MAX_BODY_BYTES: '2000' } });
    const big = await small.chat.completions
      .create({ model: personaId, messages: [{ role: 'user', content: 'x'.repeat(5000) }] })
      .catch((e: unknown) => e);
    expect(big).toBeInstanceOf(OpenAI.APIError);
    expect((big as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    const { session } = await conversation(tenant, { name: 'Another persona' });
    const mismatch = await client(tenant.apiKey, { headers: { 'X-Chat-Session-ID': session.id } })
      .chat.completions.create({ model: personaId, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(OpenAI.BadRequestError);
    expect(data(await query('chat.getSession', { id: session.id }, { tenant })).messages).toHaveLength(0);
  });

  it('counts stateless calls against the daily model-call cap', async () => {
    const capped = await createTenant('Capped org');
    const persona = await createPersona(capped, { name: 'Capped' });
    const patched = await request(`/admin/v1/organizations/${capped.organizationId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dailyModelCallCap: 1 }),
    });
    expect(patched.status).toBe(200);
    const openai = client(capped.apiKey);
    const ask = () =>
      openai.chat.completions.create({ model: persona.id, messages: [{ role: 'user', content: 'hi' }] });
    await ask();
    const refused = await ask().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toMatch(/^\d+$/);
    // The same counter refuses a session turn now.
    const { session } = await conversation(capped, { name: 'Capped 2' });
    const res = await raw('/v1/chat/completions', {
      method: 'POST',
      key: capped.apiKey,
      headers: { 'x-chat-session-id': session.id },
      body: JSON.stringify({
        model: data(await query('chat.getSession', { id: session.id }, { tenant: capped })).persona?.id,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(res.status).toBe(429);
  });

  it('reports a model failure as an OpenAI error: a status before the stream, an error event within it', async () => {
    const openai = client(tenant.apiKey);
    const failed = await openai.chat.completions
      .create({ model: await personaWith({ status: 500 }), messages: [{ role: 'user', content: 'fail' }] })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    const stream = await openai.chat.completions.create({
      model: await personaWith({ cutAfter: 3 }),
      stream: true,
      messages: [{ role: 'user', content: 'cut me off' }],
    });
    const read = async () => {
      for await (const _chunk of stream) {
        // drain
      }
    };
    await expect(read()).rejects.toBeInstanceOf(OpenAI.APIError);
  });
});
