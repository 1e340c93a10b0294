import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { getSession, subscribe, turnEvents, waitFor } from './helpers/chat';
import { conversation, marker, modelRequests } from './helpers/factories';
import { configureFakeModel, fakeModel } from './helpers/fake-model';
import { readSse } from './helpers/sse';

describe('regenerating a reply (reply versions)', () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant('Regenerate org');
  });
  const send = async (chatSessionId: string, content: string) =>
    data(await mutate('chat.sendMessage', { chatSessionId, content }, { tenant }));
  const versions = async (messageId: string) => data(await query('chat.listReplyVersions', { messageId }, { tenant }));

  it('streams a new reply from the same history; the old one is kept as a version not in use', async () => {
    const model = await fakeModel({ reply: 'first answer' });
    const { session: s } = await conversation(tenant, { model });
    const earlier = marker('earlier');
    await send(s.id, `context ${earlier}`);
    const m = marker('regen');
    const first = await send(s.id, `question ${m}`);
    const before = await getSession(tenant, s.id);
    await configureFakeModel(model, { reply: 'second answer', delayMs: 5 });

    const res = await subscribe(tenant, 'chat.streamRegenerate', { messageId: first.id });
    expect(res.status).toBe(200);
    const turn = turnEvents(await readSse(res));
    expect(turn[0]).toMatchObject({ type: 'message', message: { id: first.replyToId, role: 'USER' } });
    const final = turn.at(-1);
    expect(final).toMatchObject({ type: 'reply', message: { role: 'ASSISTANT', status: 'COMPLETE' } });
    expect(final.message.content).toBe('second answer');
    expect(final.message.replyToId).toBe(first.replyToId);
    const deltas = turn.filter((e) => e.type === 'delta');
    expect(deltas.map((d) => d.text).join('')).toBe('second answer');

    // The model saw the same history both times: the regeneration's request equals the original's.
    const requests = await modelRequests(m);
    expect(requests).toHaveLength(2);
    expect(requests[1]?.body.input ?? requests[1]?.body.messages).toEqual(
      requests[0]?.body.input ?? requests[0]?.body.messages,
    );

    const after = await getSession(tenant, s.id);
    expect(after.messages.map((x) => x.id)).toEqual([
      ...before.messages.slice(0, -1).map((x) => x.id),
      final.message.id,
    ]);
    expect(after._count.messages).toBe(before._count.messages);
    const listed = await versions(first.id);
    expect(listed.messageId).toBe(first.replyToId);
    expect(listed.versions.map((v) => [v.id, v.content, v.inUse])).toEqual([
      [first.id, 'first answer', false],
      [final.message.id, 'second answer', true],
    ]);
    // Search finds the version in use only.
    const found = data(await query('search.messages', { query: 'answer', chatSessionId: s.id }, { tenant }));
    expect(found.items.map((h) => h.messageId)).toContain(final.message.id);
    expect(found.items.map((h) => h.messageId)).not.toContain(first.id);
  });

  it('chat.regenerate answers the new reply; selectReplyVersion chooses the version the next turn’s history holds', async () => {
    const model = await fakeModel({ reply: 'alpha-version' });
    const { session: s } = await conversation(tenant, { model });
    const first = await send(s.id, 'pick one');
    await configureFakeModel(model, { reply: 'beta-version' });
    const second = data(await mutate('chat.regenerate', { messageId: first.replyToId }, { tenant }));
    expect(second).toMatchObject({ content: 'beta-version', status: 'COMPLETE', replyToId: first.replyToId });

    const chosen = data(await mutate('chat.selectReplyVersion', { replyId: first.id }, { tenant }));
    expect(chosen.versions.map((v) => v.inUse)).toEqual([true, false]);
    const session = await getSession(tenant, s.id);
    expect(session.messages.map((x) => x.id)).toEqual([first.replyToId, first.id]);
    expect(session._count.messages).toBe(session.messages.length);
    const listed = await data(await mutate('chat.selectReplyVersion', { replyId: first.id }, { tenant }));
    expect(listed).toEqual(chosen);

    const next = marker('next');
    await configureFakeModel(model, {});
    await send(s.id, `follow-up ${next}`);
    const [request] = await modelRequests(next);
    const prompt = JSON.stringify(request?.body);
    expect(prompt).toContain('alpha-version');
    expect(prompt).not.toContain('beta-version');
  });

  it('refuses: a reply being generated (409), not the last user message (400), another organization (404)', async () => {
    const model = await fakeModel({ reply: 'slow answer', delayMs: 150 });
    const { session: s } = await conversation(tenant, { model });
    const old = await send(s.id, 'old question');
    const res = await subscribe(tenant, 'chat.streamMessage', { chatSessionId: s.id, content: 'newer question' });
    const head = turnEvents(await readSse(res, (e) => e.data?.type === 'delta'));
    const userId = head[0]?.message.id as string;
    const busy = await mutate('chat.regenerate', { messageId: userId }, { tenant });
    expect(busy.status).toBe(409);
    expect((await mutate('chat.regenerate', { messageId: old.id }, { tenant })).status).toBe(400);
    await waitFor(
      () => getSession(tenant, s.id),
      (x) => x.messages.every((m) => m.status !== 'STREAMING'),
    );
    const stranger = await createTenant('Regenerate stranger');
    expect((await mutate('chat.regenerate', { messageId: userId }, { tenant: stranger })).status).toBe(404);
    expect((await query('chat.listReplyVersions', { messageId: userId }, { tenant: stranger })).status).toBe(404);
    expect((await mutate('chat.selectReplyVersion', { replyId: old.id }, { tenant: stranger })).status).toBe(404);
    // A user message is not a reply version.
    expect((await mutate('chat.selectReplyVersion', { replyId: userId }, { tenant })).status).toBe(404);
  });

  it('export keeps every version, marked; an import of it keeps them as versions', async () => {
    const model = await fakeModel({ reply: 'kept-one' });
    const { persona, session: s } = await conversation(tenant, { model });
    const first = await send(s.id, 'export me');
    await configureFakeModel(model, { reply: 'kept-two' });
    const second = data(await mutate('chat.regenerate', { messageId: first.id }, { tenant }));
    const exported = data(await query('export.session', { chatSessionId: s.id }, { tenant }));
    const replies = exported.messages.filter((m) => m.role === 'ASSISTANT');
    expect(replies.map((m) => [m.id, 'supersededAt' in m])).toEqual([
      [first.id, true],
      [second.id, false],
    ]);
    expect(exported.messages.filter((m) => m.role === 'USER').every((m) => !('supersededAt' in m))).toBe(true);

    const imported = data(await mutate('export.importSession', { ...exported, personaId: persona.id }, { tenant }));
    const copy = await getSession(tenant, imported.id);
    expect(copy.messages.map((m) => m.content)).toEqual(['export me', 'kept-two']);
    expect(copy._count.messages).toBe(2);
    const [user] = copy.messages;
    const listed = await versions(user?.id ?? '');
    expect(listed.versions.map((v) => [v.content, v.inUse])).toEqual([
      ['kept-one', false],
      ['kept-two', true],
    ]);
  });

  it('answers a retry with the same Idempotency-Key with the original reply; deleting a version not in use keeps the count', async () => {
    const { session: s } = await conversation(tenant);
    const first = await send(s.id, 'retry me');
    const headers = { 'idempotency-key': `regen-${crypto.randomUUID()}` };
    const again = data(await mutate('chat.regenerate', { messageId: first.id }, { tenant, headers }));
    const retried = data(await mutate('chat.regenerate', { messageId: first.id }, { tenant, headers }));
    expect(retried.id).toBe(again.id);
    expect((await versions(first.id)).versions).toHaveLength(2);

    const before = await getSession(tenant, s.id);
    data(await mutate('chat.deleteMessage', { messageId: first.id }, { tenant }));
    const after = await getSession(tenant, s.id);
    expect(after._count.messages).toBe(before._count.messages);
    expect(after.messages.map((m) => m.id)).toEqual(before.messages.map((m) => m.id));
  });

  it('refuses in an archived session (409) and past the daily model-call cap (429), storing nothing', async () => {
    const own = await createTenant('Regenerate caps');
    const { session: s } = await conversation(own);
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: s.id, content: 'capped' }, { tenant: own }));
    const capped = await mutate(
      'chat.regenerate',
      { messageId: reply.id },
      { tenant: own, env: { DAILY_MODEL_CALL_CAP: '1' } },
    );
    expect(capped.status).toBe(429);
    data(await mutate('chat.updateSession', { id: s.id, status: 'ARCHIVED' }, { tenant: own }));
    expect((await mutate('chat.regenerate', { messageId: reply.id }, { tenant: own })).status).toBe(409);
    const listed = data(await query('chat.listReplyVersions', { messageId: reply.id }, { tenant: own }));
    expect(listed.versions.map((v) => v.id)).toEqual([reply.id]);
  });

  it('counts the extra model call in usage and the daily cap', async () => {
    const own = await createTenant('Regenerate usage');
    const { persona, session: s } = await conversation(own);
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: s.id, content: 'count me' }, { tenant: own }));
    data(await mutate('chat.regenerate', { messageId: reply.id }, { tenant: own }));
    const db = createDb(env);
    const rows = await db.execute<{ calls: number; replies: number; messages: number }>(sql`
      select sum(model_calls)::int as calls, sum(replies)::int as replies, sum(messages)::int as messages
      from usage_daily where organization_id = ${own.organizationId} and persona_id = ${persona.id}`);
    expect(rows.rows[0]).toEqual({ calls: 2, replies: 2, messages: 1 });
    const counters = await db.execute<{ calls: number }>(sql`
      select sum(model_calls)::int as calls from usage_counters where organization_id = ${own.organizationId}`);
    expect(counters.rows[0]?.calls).toBe(2);
  });
});
