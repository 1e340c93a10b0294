import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { conversation, createPersona, createSession } from './helpers/factories';

async function turn(tenant: Tenant, chatSessionId: string, content: string) {
  const reply = data(await mutate('chat.sendMessage', { chatSessionId, content }, { tenant }));
  return { reply, questionId: reply.replyToId as string };
}

describe('feedback', () => {
  it('rates a reply, replaces the rating (the latest wins) and removes it', async () => {
    const tenant = await createTenant();
    const { persona, session } = await conversation(tenant);
    const { reply, questionId } = await turn(tenant, session.id, 'How do I reset my password?');

    const up = data(await mutate('feedback.rate', { messageId: reply.id, rating: 'UP' }, { tenant }));
    expect(up).toMatchObject({
      messageId: reply.id,
      chatSessionId: session.id,
      personaId: persona.id,
      rating: 'UP',
      reason: null,
      comment: null,
      userId: null,
    });
    const down = data(
      await mutate(
        'feedback.rate',
        { messageId: reply.id, rating: 'DOWN', reason: 'inaccurate', comment: '  Wrong menu name.  ', userId: 'u1' },
        { tenant },
      ),
    );
    expect(down).toMatchObject({ rating: 'DOWN', reason: 'inaccurate', comment: 'Wrong menu name.', userId: 'u1' });
    expect(down.createdAt).toBe(up.createdAt);
    expect(Date.parse(down.updatedAt)).toBeGreaterThanOrEqual(Date.parse(up.updatedAt));

    const listed = data(await query('feedback.listForSession', { chatSessionId: session.id }, { tenant }));
    expect(listed).toEqual([down]);

    const removed = data(await mutate('feedback.remove', { messageId: reply.id }, { tenant }));
    expect(removed).toEqual({ messageId: reply.id, removed: true });
    expect(data(await mutate('feedback.remove', { messageId: reply.id }, { tenant })).removed).toBe(false);
    expect(data(await query('feedback.listForSession', { chatSessionId: session.id }, { tenant }))).toEqual([]);

    // Only assistant replies: a user message is refused and nothing is stored.
    const refused = await mutate('feedback.rate', { messageId: questionId, rating: 'UP' }, { tenant });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toMatch(/only assistant replies/);
    expect(data(await query('feedback.listForSession', { chatSessionId: session.id }, { tenant }))).toEqual([]);
  });

  it('refuses a reply still being generated (409) and unknown or foreign messages (404)', async () => {
    const tenant = await createTenant();
    const other = await createTenant('Other');
    const { session } = await conversation(tenant);
    const { reply } = await turn(tenant, session.id, 'hello');
    await createDb(env).execute(sql`update messages set status = 'STREAMING' where id = ${reply.id}`);
    const busy = await mutate('feedback.rate', { messageId: reply.id, rating: 'UP' }, { tenant });
    expect(busy.status).toBe(409);
    await createDb(env).execute(sql`update messages set status = 'COMPLETE' where id = ${reply.id}`);

    expect((await mutate('feedback.rate', { messageId: 'msg_nope', rating: 'UP' }, { tenant })).status).toBe(404);
    expect((await mutate('feedback.rate', { messageId: reply.id, rating: 'UP' }, { tenant: other })).status).toBe(404);
    expect((await mutate('feedback.remove', { messageId: reply.id }, { tenant: other })).status).toBe(404);
    expect((await query('feedback.listForSession', { chatSessionId: session.id }, { tenant: other })).status).toBe(404);
    expect((await mutate('feedback.rate', { messageId: reply.id, rating: 'MEH' }, { tenant })).status).toBe(400);
    expect(
      (await mutate('feedback.rate', { messageId: reply.id, rating: 'UP', reason: 'x'.repeat(51) }, { tenant })).status,
    ).toBe(400);
    expect(
      (await mutate('feedback.rate', { messageId: reply.id, rating: 'UP', comment: 'x'.repeat(2001) }, { tenant }))
        .status,
    ).toBe(400);
    expect(data(await query('feedback.listForSession', { chatSessionId: session.id }, { tenant }))).toEqual([]);
  });

  it('lists rated replies per persona with filters and keyset pages', async () => {
    const tenant = await createTenant();
    const ada = await createPersona(tenant, { name: 'Ada' });
    const bob = await createPersona(tenant, { name: 'Bob' });
    const s1 = await createSession(tenant, ada.id, { userId: 'u1' });
    const s2 = await createSession(tenant, bob.id);
    const ratings = [
      { rating: 'UP' },
      { rating: 'DOWN', reason: 'tone', comment: 'Too curt' },
      { rating: 'DOWN', reason: 'inaccurate', userId: 'u9' },
    ];
    const rated: string[] = [];
    for (const [i, r] of ratings.entries()) {
      const { reply } = await turn(tenant, s1.id, `question ${i}`);
      data(await mutate('feedback.rate', { messageId: reply.id, ...r }, { tenant }));
      rated.push(reply.id);
    }
    const { reply: bobReply } = await turn(tenant, s2.id, 'for bob');
    data(await mutate('feedback.rate', { messageId: bobReply.id, rating: 'DOWN' }, { tenant }));

    const all = data(await query('feedback.listForPersona', { personaId: ada.id }, { tenant }));
    expect(all.map((f) => f.messageId)).toEqual([...rated].reverse());
    expect(all[2]).toMatchObject({
      rating: 'UP',
      reply: { content: expect.stringContaining('question 0'), truncated: false, status: 'COMPLETE' },
      question: { content: 'question 0', truncated: false },
    });
    expect(all[2]?.reply.personaVersion).toBe(1);

    const downs = data(await query('feedback.listForPersona', { personaId: ada.id, rating: 'DOWN' }, { tenant }));
    expect(downs.map((f) => f.messageId)).toEqual([rated[2], rated[1]]);
    const tone = data(await query('feedback.listForPersona', { personaId: ada.id, reason: 'tone' }, { tenant }));
    expect(tone.map((f) => f.comment)).toEqual(['Too curt']);
    const byUser = data(await query('feedback.listForPersona', { personaId: ada.id, userId: 'u9' }, { tenant }));
    expect(byUser.map((f) => f.messageId)).toEqual([rated[2]]);

    const page1 = data(await query('feedback.listForPersona', { personaId: ada.id, limit: 2 }, { tenant }));
    const page2 = data(
      await query('feedback.listForPersona', { personaId: ada.id, limit: 2, cursor: page1[1]?.messageId }, { tenant }),
    );
    expect([...page1, ...page2].map((f) => f.messageId)).toEqual(all.map((f) => f.messageId));

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = new Date(Date.now() - 3_600_000).toISOString();
    expect(data(await query('feedback.listForPersona', { personaId: ada.id, from: future }, { tenant }))).toEqual([]);
    expect(
      data(await query('feedback.listForPersona', { personaId: ada.id, from: past, to: future }, { tenant })),
    ).toHaveLength(3);
    expect(
      (await query('feedback.listForPersona', { personaId: ada.id, from: future, to: past }, { tenant })).status,
    ).toBe(400);
    expect((await query('feedback.listForPersona', { personaId: ada.id, from: 'yesterday' }, { tenant })).status).toBe(
      400,
    );

    // Another organization sees none of it, even naming the persona.
    const other = await createTenant('Other');
    expect(data(await query('feedback.listForPersona', { personaId: ada.id }, { tenant: other }))).toEqual([]);
  });

  it('cuts long texts in listings so a page stays small', async () => {
    const tenant = await createTenant();
    const { persona, session } = await conversation(tenant);
    const { reply } = await turn(tenant, session.id, `long ${'x'.repeat(9_000)}`);
    data(await mutate('feedback.rate', { messageId: reply.id, rating: 'DOWN' }, { tenant }));
    const [item] = data(await query('feedback.listForPersona', { personaId: persona.id }, { tenant }));
    expect(item?.question?.content).toHaveLength(4_000);
    expect(item?.question?.truncated).toBe(true);
  });
});
