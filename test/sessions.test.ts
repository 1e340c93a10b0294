import { describe, expect, it } from 'vitest';
import { createTenant, data, mutate, query } from './helpers/api';
import { conversation, createPersona, createSession } from './helpers/factories';

describe('sessions', () => {
  it('lists newest activity first, with filters and cursor pagination', async () => {
    const tenant = await createTenant();
    const ada = await createPersona(tenant, { name: 'Ada' });
    const bob = await createPersona(tenant, { name: 'Bob' });
    const s1 = await createSession(tenant, ada.id, { userId: 'user_1', platform: 'MOBILE' });
    const s2 = await createSession(tenant, bob.id, { userId: 'user_2' });
    const s3 = await createSession(tenant, ada.id, { userId: 'user_1', platform: 'WIDGET' });
    // Activity on s1 moves it to the top.
    data(await mutate('chat.sendMessage', { chatSessionId: s1.id, content: 'bump' }, { tenant }));

    const all = data(await query('chat.listSessions', {}, { tenant }));
    expect(all.map((s) => s.id)).toEqual([s1.id, s3.id, s2.id]);

    const byPersona = data(await query('chat.listSessions', { personaId: ada.id }, { tenant }));
    expect(byPersona.map((s) => s.id)).toEqual([s1.id, s3.id]);
    const byUser = data(await query('chat.listSessions', { userId: 'user_2' }, { tenant }));
    expect(byUser.map((s) => s.id)).toEqual([s2.id]);
    const byPlatform = data(await query('chat.listSessions', { platform: 'WIDGET' }, { tenant }));
    expect(byPlatform.map((s) => s.id)).toEqual([s3.id]);

    await mutate('chat.updateSession', { id: s2.id, status: 'ARCHIVED' }, { tenant });
    const archived = data(await query('chat.listSessions', { status: 'ARCHIVED' }, { tenant }));
    expect(archived.map((s) => s.id)).toEqual([s2.id]);
    expect(archived[0]).toMatchObject({ archiveReason: 'manual', archivedAt: expect.any(String) });

    const page1 = data(await query('chat.listSessions', { limit: 2 }, { tenant }));
    expect(page1.map((s) => s.id)).toEqual([s1.id, s3.id]);
    const page2 = data(await query('chat.listSessions', { limit: 2, cursor: page1[1]?.id }, { tenant }));
    expect(page2.map((s) => s.id)).toEqual([s2.id]);
    expect(data(await query('chat.listSessions', { limit: 2, cursor: s2.id }, { tenant }))).toEqual([]);
    expect((await query('chat.listSessions', { limit: 101 }, { tenant })).status).toBe(400);
  });

  it('refuses messages to an archived session until it is reactivated', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const archived = data(await mutate('chat.updateSession', { id: session.id, status: 'ARCHIVED' }, { tenant }));
    expect(archived.status).toBe('ARCHIVED');

    const refused = await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'anyone?' }, { tenant });
    expect(refused.status).toBe(409);
    expect(refused.body.error?.message).toMatch(/archived.*updateSession/);
    expect(data(await query('chat.getSession', { id: session.id }, { tenant })).messages).toEqual([]);

    const active = data(await mutate('chat.updateSession', { id: session.id, status: 'ACTIVE' }, { tenant }));
    expect(active).toMatchObject({ status: 'ACTIVE', archivedAt: null, archiveReason: null });
    expect(Date.parse(active.lastActivityAt)).toBeGreaterThan(Date.parse(archived.lastActivityAt));
    expect((await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'back' }, { tenant })).status).toBe(
      200,
    );
  });

  it('stores ASSISTANT and SYSTEM messages as given without calling the model', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const human = data(
      await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: 'A human agent here.', role: 'ASSISTANT', metadata: { agent: 'jo' } },
        { tenant },
      ),
    );
    expect(human).toMatchObject({ role: 'ASSISTANT', content: 'A human agent here.', metadata: { agent: 'jo' } });
    const note = data(
      await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'Imported.', role: 'SYSTEM' }, { tenant }),
    );
    expect(note.role).toBe('SYSTEM');
    const got = data(await query('chat.getSession', { id: session.id }, { tenant }));
    expect(got.messages.map((m) => [m.role, m.content])).toEqual([
      ['ASSISTANT', 'A human agent here.'],
      ['SYSTEM', 'Imported.'],
    ]);
    expect(got._count.messages).toBe(2);
  });

  it('pages through long histories with listMessages', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = data(
        await mutate(
          'chat.sendMessage',
          { chatSessionId: session.id, content: `note ${i}`, role: 'SYSTEM' },
          { tenant },
        ),
      );
      ids.push(m.id);
    }
    const first = data(await query('chat.listMessages', { chatSessionId: session.id, limit: 2 }, { tenant }));
    expect(first.map((m) => m.id)).toEqual(ids.slice(0, 2));
    const next = data(
      await query('chat.listMessages', { chatSessionId: session.id, limit: 2, cursor: first[1]?.id }, { tenant }),
    );
    expect(next.map((m) => m.id)).toEqual(ids.slice(2, 4));
    const last = data(
      await query('chat.listMessages', { chatSessionId: session.id, limit: 2, cursor: next[1]?.id }, { tenant }),
    );
    expect(last.map((m) => m.id)).toEqual(ids.slice(4));
    expect(data(await query('chat.listMessages', { chatSessionId: session.id, cursor: ids[4] }, { tenant }))).toEqual(
      [],
    );
    expect((await query('chat.listMessages', { chatSessionId: 'session_nope' }, { tenant })).status).toBe(404);
  });

  it('deletes a session with its messages', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'hello' }, { tenant }));
    expect(data(await mutate('chat.deleteSession', { id: session.id }, { tenant }))).toEqual({
      id: session.id,
      deleted: true,
    });
    expect((await query('chat.getSession', { id: session.id }, { tenant })).status).toBe(404);
    expect((await query('chat.listMessages', { chatSessionId: session.id }, { tenant })).status).toBe(404);
    expect((await mutate('chat.deleteSession', { id: session.id }, { tenant })).status).toBe(404);
  });

  it('says what is wrong with the input once, naming the field', async () => {
    const tenant = await createTenant();
    const missing = await mutate('chat.createSession', { title: 'No persona' }, { tenant });
    expect(missing.status).toBe(400);
    expect(missing.body.error?.message).toBe('personaId: expected string, received undefined');
    const two = await mutate('chat.createSession', { personaId: 7, platform: 'FAX' }, { tenant });
    expect(two.status).toBe(400);
    expect(two.body.error?.message).toMatch(/^personaId: expected string, received number; platform: /);
    expect(two.body.error?.message).not.toMatch(/Invalid input/);
  });

  it('validates session input', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const long = await mutate('chat.updateSession', { id: session.id, title: 'x'.repeat(201) }, { tenant });
    expect(long.status).toBe(400);
    expect(long.body.error?.message).toMatch(/title is too long/);
    const nothing = await mutate('chat.updateSession', { id: session.id }, { tenant });
    expect(nothing.status).toBe(400);
    const empty = await mutate('chat.sendMessage', { chatSessionId: session.id, content: '   ' }, { tenant });
    expect(empty.status).toBe(400);
    expect(empty.body.error?.message).toMatch(/content must not be empty/);
    const role = await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'x', role: 'ROBOT' },
      { tenant },
    );
    expect(role.status).toBe(400);
  });
});
