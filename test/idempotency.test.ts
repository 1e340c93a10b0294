import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { createTenant, data, mutate, query } from './helpers/api';
import { conversation, createPersona, marker, modelRequests } from './helpers/factories';
import { fakeModel } from './helpers/fake-model';

const key = () => `key-${crypto.randomUUID()}`;

describe('Idempotency-Key', () => {
  it('a retried sendMessage returns the original reply without a second row or model call', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const m = marker('idem');
    const headers = { 'idempotency-key': key() };
    const input = { chatSessionId: session.id, content: m };
    const first = data(await mutate('chat.sendMessage', input, { tenant, headers }));
    const retry = data(await mutate('chat.sendMessage', input, { tenant, headers }));
    expect(retry).toEqual(first);
    expect(await modelRequests(m)).toHaveLength(1);
    const got = data(await query('chat.getSession', { id: session.id }, { tenant }));
    expect(got._count.messages).toBe(2);
    expect(got.messages).toHaveLength(2);
  });

  it('parallel retries with one key make one turn', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { model: await fakeModel({ delayMs: 20 }) });
    const m = marker('idem-par');
    const headers = { 'idempotency-key': key() };
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        mutate('chat.sendMessage', { chatSessionId: session.id, content: m }, { tenant, headers }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(results.map((r) => r.body.result?.data.id)).size).toBe(1);
    expect(await modelRequests(m)).toHaveLength(1);
    expect(data(await query('chat.getSession', { id: session.id }, { tenant }))._count.messages).toBe(2);
  });

  it('refuses the same key with a different payload', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const headers = { 'idempotency-key': key() };
    data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'first' }, { tenant, headers }));
    const other = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'second' },
      { tenant, headers },
    );
    expect(other.status).toBe(422);
    expect(other.body.error?.message).toMatch(/already used with a different request/);
    expect(data(await query('chat.getSession', { id: session.id }, { tenant }))._count.messages).toBe(2);
  });

  it('replays a failed reply as the same error, and keys are per organization', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant, { model: await fakeModel({ status: 500 }) });
    const m = marker('idem-fail');
    const headers = { 'idempotency-key': key() };
    const input = { chatSessionId: session.id, content: m };
    const first = await mutate('chat.sendMessage', input, { tenant, headers });
    const retry = await mutate('chat.sendMessage', input, { tenant, headers });
    expect(first.status).toBe(502);
    expect(retry.status).toBe(502);
    expect(retry.body.error?.message).toBe(first.body.error?.message);
    expect(await modelRequests(m)).toHaveLength(3); // one call with its two retries, none for the replay

    // Another organization may use the same key string for its own request.
    const other = await createTenant();
    const { session: theirs } = await conversation(other);
    const res = await mutate(
      'chat.sendMessage',
      { chatSessionId: theirs.id, content: 'hi' },
      { tenant: other, headers },
    );
    expect(res.status).toBe(200);
  });

  it('a retried createSession returns the same session', async () => {
    const tenant = await createTenant();
    const persona = await createPersona(tenant, { greeting: 'Hello' });
    const headers = { 'idempotency-key': key() };
    const first = data(
      await mutate('chat.createSession', { personaId: persona.id, title: 'Once' }, { tenant, headers }),
    );
    const retry = data(
      await mutate('chat.createSession', { personaId: persona.id, title: 'Once' }, { tenant, headers }),
    );
    expect(retry.id).toBe(first.id);
    expect(data(await query('chat.listSessions', {}, { tenant }))).toHaveLength(1);
    const different = await mutate(
      'chat.createSession',
      { personaId: persona.id, title: 'Twice' },
      { tenant, headers },
    );
    expect(different.status).toBe(422);
    // The key belongs to createSession: using it on sendMessage is a different request.
    const misuse = await mutate('chat.sendMessage', { chatSessionId: first.id, content: 'x' }, { tenant, headers });
    expect(misuse.status).toBe(422);
  });

  it('expires keys after 24 hours', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const k = key();
    const headers = { 'idempotency-key': k };
    const first = data(
      await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'again' }, { tenant, headers }),
    );
    await createDb(env).execute(
      sql`update idempotency_keys set expires_at = now() - interval '1 second' where organization_id = ${tenant.organizationId} and key = ${k}`,
    );
    const later = data(
      await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'again' }, { tenant, headers }),
    );
    expect(later.id).not.toBe(first.id);
    expect(data(await query('chat.getSession', { id: session.id }, { tenant }))._count.messages).toBe(4);
  });

  it('rejects malformed keys', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const res = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'x' },
      { tenant, headers: { 'idempotency-key': 'x'.repeat(300) } },
    );
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toMatch(/Idempotency-Key/);
    expect(data(await query('chat.getSession', { id: session.id }, { tenant }))._count.messages).toBe(0);
  });
});

describe('daily model-call cap', () => {
  it('answers 429 with Retry-After once the organization has used its calls, storing nothing', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const limited = { tenant, env: { DAILY_MODEL_CALL_CAP: '2' } };
    for (const content of ['one', 'two']) {
      expect((await mutate('chat.sendMessage', { chatSessionId: session.id, content }, limited)).status).toBe(200);
    }
    const third = await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'three' }, limited);
    expect(third.status).toBe(429);
    expect(third.body.error?.message).toMatch(/used its 2 model calls for today/);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    // Messages that need no model call still go through.
    const note = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'note', role: 'SYSTEM' },
      limited,
    );
    expect(note.status).toBe(200);
    const got = data(await query('chat.getSession', { id: session.id }, { tenant }));
    expect(got.messages.map((m) => m.content)).not.toContain('three');
    expect(got._count.messages).toBe(5);
  });
});
