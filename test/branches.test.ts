import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { getSession, subscribe, turnEvents, waitFor } from './helpers/chat';
import { conversation, marker, modelRequests } from './helpers/factories';
import { configureFakeModel, fakeModel } from './helpers/fake-model';
import { readSse } from './helpers/sse';

/** The prompt of a recorded model request, as text (Responses `input` or Chat Completions `messages`). */
const promptOf = async (m: string) => {
  const requests = await modelRequests(m);
  expect(requests).toHaveLength(1);
  return JSON.stringify(requests[0]?.body.input ?? requests[0]?.body.messages);
};

describe('editing a message (branches)', () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant('Branches org');
  });
  const send = async (chatSessionId: string, content: string) =>
    data(await mutate('chat.sendMessage', { chatSessionId, content }, { tenant }));
  const edit = async (messageId: string, content: string) =>
    data(await mutate('chat.editMessage', { messageId, content }, { tenant }));
  const listBranches = async (chatSessionId: string) =>
    data(await query('chat.listBranches', { chatSessionId }, { tenant }));
  const view = (s: Awaited<ReturnType<typeof getSession>>) =>
    s.messages.map((m) => [m.id, m.role, m.content, m.status, m.replyToId]);

  it('an edit answers from the history before the edited message; switching back restores the old branch exactly', async () => {
    const model = await fakeModel({ reply: 'answer one' });
    const { session: s } = await conversation(tenant, { model });
    const [pre, old, after, edited, next] = [
      marker('pre'),
      marker('old'),
      marker('after'),
      marker('edited'),
      marker('next'),
    ];
    await send(s.id, `first ${pre}`);
    const b = await send(s.id, `question ${old}`);
    const c = await send(s.id, `follow-up ${after}`);
    // A reply version inside the branch: the second one is in use.
    await configureFakeModel(model, { reply: 'answer two' });
    const c2 = data(await mutate('chat.regenerate', { messageId: c.id }, { tenant }));
    const before = await getSession(tenant, s.id);
    expect(before._count.messages).toBe(6);

    const reply = await edit(b.replyToId ?? '', `question ${edited}`);
    expect(reply).toMatchObject({ role: 'ASSISTANT', status: 'COMPLETE', content: 'answer two' });
    const prompt = await promptOf(edited);
    expect(prompt).toContain(pre);
    expect(prompt).not.toContain(old);
    expect(prompt).not.toContain(after);

    const branched = await getSession(tenant, s.id);
    expect(view(branched)).toEqual([
      ...view(before).slice(0, 2),
      [reply.replyToId, 'USER', `question ${edited}`, 'COMPLETE', null],
      [reply.id, 'ASSISTANT', 'answer two', 'COMPLETE', reply.replyToId],
    ]);
    expect(branched._count.messages).toBe(4);
    const listed = await listBranches(s.id);
    expect(listed.forks).toHaveLength(1);
    expect(listed.forks[0]?.messageId).toBe(b.replyToId);
    expect(listed.forks[0]?.branches.map((x) => [x.branchId, x.content, x.messageCount, x.active])).toEqual([
      [b.replyToId, `question ${old}`, 4, false],
      [reply.replyToId, `question ${edited}`, 2, true],
    ]);
    // Search finds the active branch only.
    const found = data(await query('search.messages', { query: old, chatSessionId: s.id }, { tenant }));
    expect(found.items).toEqual([]);

    const switched = data(
      await mutate('chat.switchBranch', { chatSessionId: s.id, branchId: b.replyToId ?? '' }, { tenant }),
    );
    expect(switched.forks[0]?.branches.map((x) => [x.messageCount, x.active])).toEqual([
      [4, true],
      [2, false],
    ]);
    const restored = await getSession(tenant, s.id);
    expect(view(restored)).toEqual(view(before));
    expect(restored._count.messages).toBe(6);
    const versions = data(await query('chat.listReplyVersions', { messageId: c.id }, { tenant }));
    expect(versions.versions.map((v) => [v.id, v.inUse])).toEqual([
      [c.id, false],
      [c2.id, true],
    ]);

    // The next send's history is the branch switched to.
    await send(s.id, `then ${next}`);
    const nextPrompt = await promptOf(next);
    expect(nextPrompt).toContain(old);
    expect(nextPrompt).toContain(after);
    expect(nextPrompt).toContain('answer two');
    expect(nextPrompt).not.toContain(edited);
  });

  it('streams the edit like a send, and an edit of an edit is another branch at the same fork', async () => {
    const { session: s } = await conversation(tenant);
    const a = await send(s.id, 'stream base');
    const res = await subscribe(tenant, 'chat.streamEditMessage', { messageId: a.replyToId, content: 'streamed edit' });
    expect(res.status).toBe(200);
    const turn = turnEvents(await readSse(res));
    expect(turn[0]).toMatchObject({ type: 'message', message: { role: 'USER', content: 'streamed edit' } });
    const final = turn.at(-1);
    expect(final).toMatchObject({ type: 'reply', message: { role: 'ASSISTANT', status: 'COMPLETE' } });
    const again = await edit(turn[0]?.message.id ?? '', 'third take');
    const listed = await listBranches(s.id);
    expect(listed.forks.map((f) => f.messageId)).toEqual([a.replyToId]);
    expect(listed.forks[0]?.branches.map((x) => [x.content, x.active])).toEqual([
      ['stream base', false],
      ['streamed edit', false],
      ['third take', true],
    ]);
    expect((await getSession(tenant, s.id)).messages.map((m) => m.id)).toEqual([again.replyToId, again.id]);
    // A session without edits lists no fork.
    const { session: plain } = await conversation(tenant);
    expect(await listBranches(plain.id)).toEqual({ chatSessionId: plain.id, forks: [] });
  });

  it('keeps a branch inside a branch: switching the outer fork away and back restores the inner choice', async () => {
    const { session: s } = await conversation(tenant);
    const a = await send(s.id, 'outer one');
    const a2 = await edit(a.replyToId ?? '', 'outer two');
    const d = await send(s.id, 'inner one');
    const d2 = await edit(d.replyToId ?? '', 'inner two');
    const line = async () => (await getSession(tenant, s.id)).messages.map((m) => m.content);
    expect(await line()).toEqual(['outer two', a2.content, 'inner two', d2.content]);
    const forks = (await listBranches(s.id)).forks;
    expect(forks.map((f) => f.branches.map((b) => [b.content, b.active]))).toEqual([
      [
        ['outer one', false],
        ['outer two', true],
      ],
      [
        ['inner one', false],
        ['inner two', true],
      ],
    ]);
    const sw = (branchId: string | null) =>
      mutate('chat.switchBranch', { chatSessionId: s.id, branchId: branchId ?? '' }, { tenant });
    const back = data(await sw(a.replyToId));
    // The inner fork is on the branch left: only the outer fork shows.
    expect(back.forks.map((f) => f.branches.map((b) => b.messageCount))).toEqual([[2, 4]]);
    expect(await line()).toEqual(['outer one', a.content]);
    // A fork on a branch not active cannot be switched to directly.
    expect((await sw(d.replyToId)).status).toBe(400);
    data(await sw(a2.replyToId));
    expect(await line()).toEqual(['outer two', a2.content, 'inner two', d2.content]);
    data(await sw(d.replyToId));
    expect(await line()).toEqual(['outer two', a2.content, 'inner one', d.content]);
    expect((await getSession(tenant, s.id))._count.messages).toBe(4);
  });

  it('after the active edit is deleted, the old branch is still listed and can be switched back to', async () => {
    const { session: s } = await conversation(tenant);
    const first = await send(s.id, 'keep me');
    const a = await send(s.id, 'edit me');
    const a2 = await edit(a.replyToId ?? '', 'edited then deleted');
    data(await mutate('chat.deleteMessage', { messageId: a2.replyToId }, { tenant }));
    expect((await getSession(tenant, s.id)).messages.map((m) => m.id)).toEqual([first.replyToId, first.id]);
    const listed = await listBranches(s.id);
    expect(listed.forks.map((f) => f.branches.map((b) => [b.branchId, b.active, b.messageCount]))).toEqual([
      [[a.replyToId, false, 2]],
    ]);
    data(await mutate('chat.switchBranch', { chatSessionId: s.id, branchId: a.replyToId }, { tenant }));
    const back = await getSession(tenant, s.id);
    expect(back.messages.map((m) => m.id)).toEqual([first.replyToId, first.id, a.replyToId, a.id]);
    expect(back._count.messages).toBe(4);
  });

  it('refuses: a reply being generated (409), an assistant message (400), no branch (400), another organization (404)', async () => {
    const model = await fakeModel({ reply: 'slow answer', delayMs: 150 });
    const { session: s } = await conversation(tenant, { model });
    const old = await send(s.id, 'old question');
    const res = await subscribe(tenant, 'chat.streamMessage', { chatSessionId: s.id, content: 'newer question' });
    turnEvents(await readSse(res, (e) => e.data?.type === 'delta'));
    const busy = await mutate('chat.editMessage', { messageId: old.replyToId, content: 'x' }, { tenant });
    expect(busy.status).toBe(409);
    await waitFor(
      () => getSession(tenant, s.id),
      (x) => x.messages.every((m) => m.status !== 'STREAMING'),
    );
    expect((await mutate('chat.editMessage', { messageId: old.id, content: 'x' }, { tenant })).status).toBe(400);
    const noBranch = await mutate('chat.switchBranch', { chatSessionId: s.id, branchId: old.replyToId }, { tenant });
    expect(noBranch.status).toBe(400);
    const stranger = await createTenant('Branches stranger');
    const other = { tenant: stranger };
    expect((await mutate('chat.editMessage', { messageId: old.replyToId, content: 'x' }, other)).status).toBe(404);
    expect((await query('chat.listBranches', { chatSessionId: s.id }, other)).status).toBe(404);
    const switchOther = await mutate('chat.switchBranch', { chatSessionId: s.id, branchId: old.replyToId }, other);
    expect(switchOther.status).toBe(404);
    expect((await getSession(tenant, s.id))._count.messages).toBe(4);
  });

  it('counts the edit as a message and a model call (usage and the daily cap)', async () => {
    const own = await createTenant('Branches usage');
    const { persona, session: s } = await conversation(own);
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: s.id, content: 'count me' }, { tenant: own }));
    const edited = data(
      await mutate('chat.editMessage', { messageId: reply.replyToId, content: 'count me too' }, { tenant: own }),
    );
    const db = createDb(env);
    const rows = await db.execute<{ calls: number; replies: number; messages: number }>(sql`
      select sum(model_calls)::int as calls, sum(replies)::int as replies, sum(messages)::int as messages
      from usage_daily where organization_id = ${own.organizationId} and persona_id = ${persona.id}`);
    expect(rows.rows[0]).toEqual({ calls: 2, replies: 2, messages: 2 });
    const capped = await mutate(
      'chat.editMessage',
      { messageId: edited.replyToId, content: 'over the cap' },
      { tenant: own, env: { DAILY_MODEL_CALL_CAP: '2' } },
    );
    expect(capped.status).toBe(429);
    // Refused before anything was stored: the edit is still the active branch.
    expect((await getSession(own, s.id)).messages.map((m) => m.id)).toEqual([edited.replyToId, edited.id]);
  });

  it('answers a retry with the same Idempotency-Key with the original reply; refuses in an archived session (409)', async () => {
    const { session: s } = await conversation(tenant);
    const a = await send(s.id, 'retry base');
    const headers = { 'idempotency-key': `edit-${crypto.randomUUID()}` };
    const input = { messageId: a.replyToId, content: 'retry edit' };
    const first = data(await mutate('chat.editMessage', input, { tenant, headers }));
    const retried = data(await mutate('chat.editMessage', input, { tenant, headers }));
    expect(retried.id).toBe(first.id);
    expect((await getSession(tenant, s.id)).messages.map((m) => m.id)).toEqual([first.replyToId, first.id]);
    data(await mutate('chat.updateSession', { id: s.id, status: 'ARCHIVED' }, { tenant }));
    const archived = await mutate('chat.editMessage', { messageId: first.replyToId, content: 'late' }, { tenant });
    expect(archived.status).toBe(409);
    expect((await listBranches(s.id)).forks[0]?.branches).toHaveLength(2);
  });

  it('export keeps every branch; an import of it keeps them switchable', async () => {
    const { persona, session: s } = await conversation(tenant);
    const a = await send(s.id, 'export base');
    const e = await edit(a.replyToId ?? '', 'export edit');
    const exported = data(await query('export.session', { chatSessionId: s.id }, { tenant }));
    expect(exported.messages.map((m) => [m.id, 'supersededAt' in m])).toEqual([
      [a.replyToId, true],
      [a.id, true],
      [e.replyToId, false],
      [e.id, false],
    ]);

    const imported = data(await mutate('export.importSession', { ...exported, personaId: persona.id }, { tenant }));
    const copy = await getSession(tenant, imported.id);
    expect(copy.messages.map((m) => m.content)).toEqual(['export edit', e.content]);
    const listed = await listBranches(imported.id);
    const [oldBranch] = listed.forks[0]?.branches ?? [];
    expect(oldBranch).toMatchObject({ content: 'export base', messageCount: 2, active: false });
    data(
      await mutate(
        'chat.switchBranch',
        { chatSessionId: imported.id, branchId: oldBranch?.branchId ?? '' },
        { tenant },
      ),
    );
    const back = await getSession(tenant, imported.id);
    expect(back.messages.map((m) => m.content)).toEqual(['export base', a.content]);
  });
});
