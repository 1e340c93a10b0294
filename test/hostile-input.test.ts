import { describe, expect, it } from 'vitest';
import { authHeaders, createTenant, data, mutate, query, request } from './helpers/api';
import { messagesOf } from './helpers/chat';
import { conversation } from './helpers/factories';
import { worker } from './helpers/worker';

describe('hostile input', () => {
  it('refuses a body over the limit with 413 before parsing it', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const body = JSON.stringify({ json: { chatSessionId: session.id, content: 'x'.repeat(5_000) } });
    const res = await request(
      '/api/trpc/chat.sendMessage',
      { method: 'POST', headers: { ...authHeaders(tenant), 'content-type': 'application/json' }, body },
      { MAX_BODY_BYTES: '4096' },
    );
    expect(res.status).toBe(413);
    expect(res.body.error?.message).toMatch(/larger than 4096 bytes/);
    expect(res.body.error?.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await messagesOf(tenant, session.id)).toEqual([]);
  });

  it('answers malformed JSON, wrong types, huge numbers and long ids with 400', async () => {
    const tenant = await createTenant();
    const { persona, session } = await conversation(tenant);
    const raw = await request('/api/trpc/chat.sendMessage', {
      method: 'POST',
      headers: { ...authHeaders(tenant), 'content-type': 'application/json' },
      body: '{"json":{"chatSessionId":',
    });
    expect(raw.status).toBe(400);
    const cases: [string, unknown, RegExp][] = [
      ['chat.sendMessage', { chatSessionId: session.id, content: 42 }, /content/],
      ['chat.sendMessage', { chatSessionId: ['x'], content: 'hi' }, /chatSessionId/],
      ['chat.sendMessage', { chatSessionId: 'x'.repeat(10_000), content: 'hi' }, /chatSessionId is too long/],
      ['chat.sendMessage', { chatSessionId: "x' OR '1'='1", content: 'hi' }, /chatSessionId must be an id/],
      ['chat.sendMessage', { chatSessionId: session.id, content: 'hi', attachments: 'nope' }, /attachments/],
      ['persona.create', { name: 'x', temperature: 1e308 }, /temperature/],
      ['persona.create', { name: 'x', maxOutputTokens: 2 ** 53 }, /maxOutputTokens/],
      ['persona.create', { name: 'x', maxOutputTokens: 1.5 }, /maxOutputTokens/],
      ['chat.createSession', { personaId: persona.id, platform: { $ne: null } }, /platform/],
      ['chat.listSessions', { limit: -1 }, /limit/],
    ];
    for (const [procedure, input, message] of cases) {
      const res =
        procedure === 'chat.listSessions'
          ? await query(procedure, input, { tenant })
          : await mutate(procedure, input, { tenant });
      expect(res.status, `${procedure} ${JSON.stringify(input).slice(0, 80)}`).toBe(400);
      expect(res.body.error?.message).toMatch(message);
    }
    expect(await messagesOf(tenant, session.id)).toEqual([]);
  });

  it('refuses NUL characters and invalid Unicode in text with 400 and stores nothing', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const bodies = [
      '{"json":{"chatSessionId":"SID","content":"nul \\u0000 byte"}}',
      '{"json":{"chatSessionId":"SID","content":"lone \\ud800 surrogate"}}',
      '{"json":{"chatSessionId":"SID","content":"ok","metadata":{"k":"\\u0000"}}}',
      '{"json":{"chatSessionId":"SID","content":"ok","metadata":{"\\udc00":"v"}}}',
    ];
    for (const body of bodies) {
      const res = await request('/api/trpc/chat.sendMessage', {
        method: 'POST',
        headers: { ...authHeaders(tenant), 'content-type': 'application/json' },
        body: body.replace('SID', session.id),
      });
      expect(res.status, body).toBe(400);
      expect(res.body.error?.message).toMatch(/NUL|Unicode/);
    }
    expect(await messagesOf(tenant, session.id)).toEqual([]);
  });

  it('never applies unknown fields (no mass assignment)', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const { persona, session } = await conversation(tenant);
    const created = data(
      await mutate(
        'chat.createSession',
        {
          personaId: persona.id,
          organizationId: other.organizationId,
          status: 'ARCHIVED',
          id: 'session_mine',
          messageCount: 99,
        },
        { tenant },
      ),
    );
    expect(created).toMatchObject({ organizationId: tenant.organizationId, status: 'ACTIVE', _count: { messages: 0 } });
    expect(created.id).not.toBe('session_mine');
    const updated = data(
      await mutate(
        'chat.updateSession',
        {
          id: session.id,
          title: 'ok',
          personaId: 'persona_other',
          organizationId: other.organizationId,
          messageCount: 5,
        },
        { tenant },
      ),
    );
    expect(updated).toMatchObject({ title: 'ok', personaId: persona.id, organizationId: tenant.organizationId });
    const reply = data(
      await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: 'hi', id: 'msg_chosen', status: 'STREAMING', chatSessionIdx: 'x' },
        { tenant },
      ),
    );
    expect(reply.id).not.toBe('msg_chosen');
    const personaUpdate = data(
      await mutate(
        'persona.update',
        { id: persona.id, name: 'New', version: 100, organizationId: other.organizationId },
        { tenant },
      ),
    );
    expect(personaUpdate).toMatchObject({ name: 'New', version: 2, organizationId: tenant.organizationId });
  });

  it('answers a wrong content type with a 4xx', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const res = await worker.fetch('http://api.test/api/trpc/chat.sendMessage', {
      method: 'POST',
      headers: { ...authHeaders(tenant), 'content-type': 'text/xml' },
      body: `<json><chatSessionId>${session.id}</chatSessionId></json>`,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await messagesOf(tenant, session.id)).toEqual([]);
  });

  it('rejects oversized strings and arrays everywhere with a clear message', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const huge = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'x'.repeat(100_001) },
      { tenant },
    );
    expect(huge.status).toBe(400);
    expect(huge.body.error?.message).toMatch(/content is too long \(max 100000 characters\)/);
    const many = await mutate(
      'chat.sendMessage',
      {
        chatSessionId: session.id,
        content: 'x',
        attachments: Array.from({ length: 21 }, (_, i) => ({
          filename: `${i}.txt`,
          mimeType: 'text/plain',
          data: 'eA==',
        })),
      },
      { tenant },
    );
    expect(many.status).toBe(400);
    expect(many.body.error?.message).toMatch(/too many attachments/);
    const bigMeta = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'x', role: 'SYSTEM', metadata: { blob: 'y'.repeat(20_000) } },
      { tenant },
    );
    expect(bigMeta.status).toBe(400);
    expect(bigMeta.body.error?.message).toMatch(/metadata is too large/);
    expect(await messagesOf(tenant, session.id)).toEqual([]);
  });
});
