import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { defined } from './helpers/assert';
import { conversation, marker, modelRequests } from './helpers/factories';

describe('chat.deleteMessage', () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant('Delete org');
  });

  const send = async (chatSessionId: string, content: string) =>
    data(await mutate('chat.sendMessage', { chatSessionId, content }, { tenant }));
  const session = async (id: string) => data(await query('chat.getSession', { id }, { tenant }));

  it('deletes a user message with its reply, and the next turn’s history no longer has them', async () => {
    const { session: s } = await conversation(tenant);
    const gone = marker('gone');
    const kept = marker('kept');
    await send(s.id, `forget this ${gone}`);
    await send(s.id, `keep this ${kept}`);
    const before = await session(s.id);
    const first = defined(before.messages.find((m) => m.content === `forget this ${gone}`));
    const reply = defined(before.messages.find((m) => m.role === 'ASSISTANT' && m.replyToId === first.id));

    const res = data(await mutate('chat.deleteMessage', { messageId: first.id }, { tenant }));
    expect(res.chatSessionId).toBe(s.id);
    expect([...res.deletedMessageIds].sort()).toEqual([first.id, reply.id].sort());

    const after = await session(s.id);
    const ids = after.messages.map((m) => m.id);
    expect(ids).not.toContain(first.id);
    expect(ids).not.toContain(reply.id);
    expect(after.messages).toHaveLength(before.messages.length - 2);
    expect(after._count.messages).toBe(before._count.messages - 2);

    const next = marker('next');
    await send(s.id, `and now ${next}`);
    const [sent] = await modelRequests(next);
    const prompt = JSON.stringify(sent?.body);
    expect(prompt).toContain(kept);
    expect(prompt).not.toContain(gone);

    // Deleted is deleted: a second delete does not find it.
    expect((await mutate('chat.deleteMessage', { messageId: first.id }, { tenant })).status).toBe(404);
  });

  it('deletes a reply alone, leaving its user message', async () => {
    const { session: s } = await conversation(tenant);
    const reply = await send(s.id, 'question');
    const res = data(await mutate('chat.deleteMessage', { messageId: reply.id }, { tenant }));
    expect(res.deletedMessageIds).toEqual([reply.id]);
    const after = await session(s.id);
    expect(after.messages.map((m) => m.id)).not.toContain(reply.id);
    expect(after.messages.some((m) => m.id === reply.replyToId)).toBe(true);
  });

  it('refuses while a reply is being generated and deletes nothing', async () => {
    const { session: s } = await conversation(tenant);
    const reply = await send(s.id, 'still going');
    await createDb(env).execute(
      sql`update messages set status = 'STREAMING', updated_at = now() + interval '1 hour' where id = ${reply.id}`,
    );
    const before = await session(s.id);
    const res = await mutate('chat.deleteMessage', { messageId: reply.replyToId }, { tenant });
    expect(res.status).toBe(409);
    expect(await session(s.id)).toEqual(before);
  });

  it('answers 404 for unknown ids', async () => {
    expect((await mutate('chat.deleteMessage', { messageId: 'msg_unknown' }, { tenant })).status).toBe(404);
  });
});
