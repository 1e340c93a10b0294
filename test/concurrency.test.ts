import { describe, expect, it } from 'vitest';
import { createTenant, data, mutate, query } from './helpers/api';
import { conversation, createSession } from './helpers/factories';

describe('concurrency', () => {
  it('20 parallel sends on one session: each message stored once, each reply attached to its own turn', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const contents = Array.from({ length: 20 }, (_, i) => `parallel message ${i}`);
    const results = await Promise.all(
      contents.map((content) => mutate('chat.sendMessage', { chatSessionId: session.id, content }, { tenant })),
    );
    expect(results.map((r) => r.status)).toEqual(contents.map(() => 200));

    const got = data(await query('chat.getSession', { id: session.id }, { tenant }));
    expect(got._count.messages).toBe(40);
    const users = got.messages.filter((m) => m.role === 'USER');
    const replies = got.messages.filter((m) => m.role === 'ASSISTANT');
    expect(users.map((m) => m.content).sort()).toEqual([...contents].sort());
    expect(replies).toHaveLength(20);
    const userById = new Map(users.map((m) => [m.id, m.content]));
    for (const reply of replies) {
      expect(reply.status).toBe('COMPLETE');
      // The local model echoes the message it answers: each reply answers its own turn.
      expect(reply.content).toBe(`You said: ${userById.get(reply.replyToId ?? '')}. This is a streamed test reply.`);
    }
    expect(new Set(replies.map((r) => r.replyToId)).size).toBe(20);
  });

  it('100 parallel requests across sessions: no errors, no lost writes', async () => {
    const tenant = await createTenant();
    const { persona } = await conversation(tenant);
    const sessions = await Promise.all(Array.from({ length: 10 }, () => createSession(tenant, persona.id)));
    const calls = Array.from({ length: 100 }, (_, i) => {
      const s = sessions[i % sessions.length];
      if (!s) throw new Error('no session');
      if (i % 4 === 0) return mutate('chat.sendMessage', { chatSessionId: s.id, content: `turn ${i}` }, { tenant });
      if (i % 4 === 1)
        return mutate('chat.sendMessage', { chatSessionId: s.id, content: `note ${i}`, role: 'SYSTEM' }, { tenant });
      if (i % 4 === 2) return query('chat.getSession', { id: s.id }, { tenant });
      return query('chat.listSessions', {}, { tenant });
    });
    const results = await Promise.all(calls);
    const failures = results
      .filter((r) => r.status !== 200)
      .map((r) => [r.status, JSON.stringify(r.body).slice(0, 200)]);
    expect(failures).toEqual([]);
    const listed = data(await query('chat.listSessions', {}, { tenant }));
    const total = listed.reduce((sum, s) => sum + s._count.messages, 0);
    expect(total).toBe(25 * 2 + 25);
    for (const s of listed) {
      const got = data(await query('chat.getSession', { id: s.id }, { tenant }));
      expect(got.messages).toHaveLength(s._count.messages);
    }
  });
});
