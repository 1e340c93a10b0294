import { describe, expect, it } from 'vitest';
import { createTenant, data, mutate, type OutputOf, query, request, type TrpcBody } from './helpers/api';
import { createPersona } from './helpers/factories';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The calls of docs/api-contract.md, sent exactly as its curl examples send them. */
describe('public contract', () => {
  it('runs the documented flow and answers in the documented shapes', async () => {
    const tenant = await createTenant();
    const persona = await createPersona(tenant, {
      name: 'Customer Support Agent',
      avatarUrl: 'https://example.com/a.png',
    });

    // createSession: POST {"json": {...}}
    const created = await mutate(
      'chat.createSession',
      { personaId: persona.id, title: 'Customer Support Chat', platform: 'API' },
      { tenant },
    );
    expect(created.status).toBe(200);
    expect(Object.keys(created.body)).toEqual(['result']);
    const session = data(created);
    expect(session).toMatchObject({
      id: expect.stringMatching(/^session_[0-9A-Z]{26}$/),
      title: 'Customer Support Chat',
      personaId: persona.id,
      platform: 'API',
      status: 'ACTIVE',
      organizationId: tenant.organizationId,
      persona: { id: persona.id, name: 'Customer Support Agent', avatarUrl: 'https://example.com/a.png' },
      _count: { messages: 0 },
    });
    expect(session.createdAt).toMatch(ISO_MS);
    expect(session.updatedAt).toMatch(ISO_MS);
    expect(session).toHaveProperty('userId', null);

    // sendMessage
    const sent = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'Hello! I need help with my account login.', role: 'USER' },
      { tenant },
    );
    const reply = data(sent);
    expect(reply).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      chatSessionId: session.id,
      role: 'ASSISTANT',
      content: expect.stringContaining('You said: Hello! I need help with my account login.'),
      metadata: expect.any(Object),
    });
    expect(reply.createdAt).toMatch(ISO_MS);

    // listSessions with input={} (plain, URL-encoded)
    const listed = await request<TrpcBody<OutputOf<'chat.listSessions'>>>(`/api/trpc/chat.listSessions?input=%7B%7D`, {
      headers: { 'X-API-Key': tenant.apiKey, 'X-Organization-ID': tenant.organizationId },
    });
    const sessions = data(listed);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      id: session.id,
      title: 'Customer Support Chat',
      platform: 'API',
      status: 'ACTIVE',
      persona: { id: persona.id, name: 'Customer Support Agent' },
      _count: { messages: 2 },
    });
    expect(sessions[0]).not.toHaveProperty('messages');

    // getSession with input={"id": ...}
    const got = data(
      await request<TrpcBody<OutputOf<'chat.getSession'>>>(
        `/api/trpc/chat.getSession?input=${encodeURIComponent(JSON.stringify({ id: session.id }))}`,
        {
          headers: { 'X-API-Key': tenant.apiKey, 'X-Organization-ID': tenant.organizationId },
        },
      ),
    );
    expect(got._count.messages).toBe(2);
    expect(got.messages.map((m) => m.role)).toEqual(['USER', 'ASSISTANT']);
    expect(got.messages[0]).toMatchObject({
      chatSessionId: session.id,
      content: 'Hello! I need help with my account login.',
      metadata: {},
    });
    expect(got.messages[1]?.id).toBe(reply.id);
    for (const m of got.messages) expect(m.createdAt).toMatch(ISO_MS);

    // updateSession
    const updated = data(
      await mutate('chat.updateSession', { id: session.id, title: 'Updated Chat Title' }, { tenant }),
    );
    expect(updated).toMatchObject({ id: session.id, title: 'Updated Chat Title', _count: { messages: 2 } });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(session.updatedAt));
  });

  it('accepts inputs both wrapped in {"json": ...} and plain, on GET and POST', async () => {
    const tenant = await createTenant();
    const persona = await createPersona(tenant);
    const plainPost = data(await mutate('chat.createSession', { personaId: persona.id }, { tenant, wrap: false }));
    const wrappedPost = data(
      await mutate('chat.createSession', { personaId: persona.id, title: 'x' }, { tenant, wrap: true }),
    );
    expect(plainPost.platform).toBe('WEB');
    expect(wrappedPost.title).toBe('x');
    // A superjson-style envelope may carry "meta" beside "json".
    const withMeta = await request<TrpcBody<OutputOf<'chat.createSession'>>>('/api/trpc/chat.createSession', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': tenant.apiKey,
        'x-organization-id': tenant.organizationId,
      },
      body: JSON.stringify({ json: { personaId: persona.id, title: 'meta' }, meta: { values: {} } }),
    });
    expect(data(withMeta).title).toBe('meta');

    const plainGet = data(await query('chat.getSession', { id: plainPost.id }, { tenant }));
    const wrappedGet = data(await query('chat.getSession', { id: plainPost.id }, { tenant, wrap: true }));
    expect(plainGet.id).toBe(plainPost.id);
    expect(wrappedGet.id).toBe(plainPost.id);
    // listSessions also works with no input at all.
    expect(data(await query('chat.listSessions', undefined, { tenant }))).toHaveLength(3);
  });

  it('answers errors in the tRPC error shape with the right status and a readable message', async () => {
    const tenant = await createTenant();
    const missing = await mutate('chat.createSession', { title: 'no persona' }, { tenant });
    expect(missing.status).toBe(400);
    expect(missing.body.error?.message).toMatch(/personaId/);
    expect(missing.body.error?.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(missing.body.error?.data).not.toHaveProperty('stack');

    const badPlatform = await mutate('chat.createSession', { personaId: 'x', platform: 'FAX' }, { tenant });
    expect(badPlatform.status).toBe(400);
    expect(badPlatform.body.error?.message).toMatch(/platform/);

    const unknown = await query('chat.getSession', { id: 'session_doesnotexist' }, { tenant });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.message).toBe('Chat session session_doesnotexist not found.');

    const malformed = await request('/api/trpc/chat.createSession', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': tenant.apiKey,
        'x-organization-id': tenant.organizationId,
      },
      body: '{"json": {',
    });
    expect(malformed.status).toBe(400);

    const noProcedure = await query('chat.nope', {}, { tenant });
    expect(noProcedure.status).toBe(404);
  });
});
