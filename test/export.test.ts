import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { EXPORT_PAGE_BYTES } from '../src/db/queries/export';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { conversation, createPersona } from './helpers/factories';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function rowCounts(organizationId: string) {
  const r = await createDb(env).execute(sql`
    select (select count(*) from chat_sessions where organization_id = ${organizationId})::int as sessions,
           (select count(*) from messages where organization_id = ${organizationId})::int as messages,
           (select count(*) from message_feedback where organization_id = ${organizationId})::int as feedback`);
  return r.rows[0];
}

async function richSession(tenant: Tenant) {
  const { persona, session } = await conversation(tenant, { name: 'Ada', greeting: 'Hi, I am Ada.' });
  data(await mutate('chat.updateSession', { id: session.id, title: 'Billing *question*' }, { tenant }));
  const reply = data(
    await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'Where is my **invoice**?', metadata: { ticket: 42 } },
      { tenant },
    ),
  );
  data(
    await mutate(
      'feedback.rate',
      { messageId: reply.id, rating: 'DOWN', reason: 'vague', comment: 'No link' },
      { tenant },
    ),
  );
  return { persona, session, reply };
}

describe('export and import', () => {
  it('exports a session as lossless JSON: session, persona, messages with metadata and feedback', async () => {
    const tenant = await createTenant();
    const { persona, session, reply } = await richSession(tenant);
    const doc = data(await query('export.session', { chatSessionId: session.id }, { tenant }));
    const got = data(await query('chat.getSession', { id: session.id }, { tenant }));

    expect(doc).toMatchObject({ format: 'persona-conversations.session', version: 1 });
    expect(doc.exportedAt).toMatch(ISO_MS);
    const { messages, ...sessionPart } = got;
    expect(doc.session).toEqual(sessionPart);
    expect(doc.persona).toMatchObject({
      id: persona.id,
      name: 'Ada',
      greeting: 'Hi, I am Ada.',
      version: 1,
      deletedAt: null,
    });
    // Every field getSession has, plus the rating.
    expect(doc.messages.map(({ feedback, ...m }) => m)).toEqual(messages);
    expect(doc.messages.map((m) => m.role)).toEqual(['ASSISTANT', 'USER', 'ASSISTANT']);
    expect(doc.messages[1]?.metadata).toEqual({ ticket: 42 });
    expect(doc.messages[2]?.feedback).toMatchObject({
      messageId: reply.id,
      rating: 'DOWN',
      reason: 'vague',
      comment: 'No link',
    });
    expect(doc.messages[0]?.feedback).toBeNull();
    expect(doc.page).toEqual({ cursor: null, nextCursor: null, complete: true });
  });

  it('exports Markdown', async () => {
    const tenant = await createTenant();
    const { session } = await richSession(tenant);
    const md = data(await query('export.markdown', { chatSessionId: session.id }, { tenant }));
    expect(md.format).toBe('markdown');
    expect(md.markdown).toMatch(/^# Billing \*question\*\n/);
    expect(md.markdown).toContain(`- Session: \`${session.id}\``);
    expect(md.markdown).toContain('### User · ');
    expect(md.markdown).toContain('Where is my **invoice**?');
    expect(md.markdown).toMatch(/### Ada · [^\n]* · rated 👎 \(vague: No link\)/);
    expect(md.page.complete).toBe(true);
  });

  it('pages a long session by count and by bytes, never past the response budget', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    // 45 messages of 100,000 characters: about 4.3 MiB of JSON, more than one page's budget.
    await createDb(env).execute(sql`
      insert into messages (id, organization_id, chat_session_id, role, content, created_at)
      select 'msg_big_' || lpad(i::text, 3, '0'), ${tenant.organizationId}, ${session.id}, 'USER',
        repeat(chr(97 + i % 26), 100000), now() + make_interval(secs => i)
      from generate_series(1, 45) i`);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (; pages < 10; pages++) {
      const res = await query(
        'export.session',
        { chatSessionId: session.id, limit: 500, ...(cursor ? { cursor } : {}) },
        { tenant },
      );
      const doc = data(res);
      expect(JSON.stringify(doc.messages).length).toBeLessThanOrEqual(EXPORT_PAGE_BYTES + 110_000);
      seen.push(...doc.messages.map((m) => m.id));
      if (doc.page.complete) break;
      cursor = doc.page.nextCursor ?? undefined;
    }
    expect(pages).toBe(1); // two pages: the byte budget cut the first
    expect(seen).toEqual(Array.from({ length: 45 }, (_, i) => `msg_big_${String(i + 1).padStart(3, '0')}`));

    const byCount = data(await query('export.session', { chatSessionId: session.id, limit: 10 }, { tenant }));
    expect(byCount.messages).toHaveLength(10);
    expect(byCount.page.nextCursor).toBe('msg_big_010');
    expect((await query('export.session', { chatSessionId: session.id, limit: 501 }, { tenant })).status).toBe(400);
  });

  it('imports an export into a new session: order, roles, timestamps, metadata and feedback kept', async () => {
    const tenant = await createTenant();
    const { persona, session } = await richSession(tenant);
    const doc = data(await query('export.session', { chatSessionId: session.id }, { tenant }));

    const imported = data(await mutate('export.importSession', { ...doc, personaId: persona.id }, { tenant }));
    expect(imported.id).not.toBe(session.id);
    expect(imported).toMatchObject({
      title: 'Billing *question*',
      platform: 'WEB',
      personaId: persona.id,
      _count: { messages: 3 },
    });
    const copy = data(await query('export.session', { chatSessionId: imported.id }, { tenant }));
    expect(copy.messages.map((m) => m.id)).toEqual(imported.messageIds);
    expect(copy.messages.map((m) => [m.role, m.content, m.status, m.createdAt])).toEqual(
      doc.messages.map((m) => [m.role, m.content, m.status, m.createdAt]),
    );
    expect(copy.messages[1]?.metadata).toEqual({ ticket: 42, importedFrom: { id: doc.messages[1]?.id } });
    // The reply still answers the question (mapped onto the new ids) and keeps its rating.
    expect(copy.messages[2]?.replyToId).toBe(copy.messages[1]?.id);
    expect(copy.messages[2]?.feedback).toMatchObject({ rating: 'DOWN', reason: 'vague', comment: 'No link' });
    expect(data(await query('feedback.listForPersona', { personaId: persona.id }, { tenant }))).toHaveLength(2);
  });

  it('imports a minimal history from another tool', async () => {
    const tenant = await createTenant();
    const persona = await createPersona(tenant);
    const imported = data(
      await mutate(
        'export.importSession',
        {
          personaId: persona.id,
          title: 'From elsewhere',
          messages: [
            { role: 'USER', content: 'hi', createdAt: '2024-01-01T10:00:00+02:00' },
            { role: 'ASSISTANT', content: 'hello', createdAt: '2024-01-01T08:00:00.500Z', feedback: { rating: 'UP' } },
            { role: 'USER', content: 'now' },
          ],
        },
        { tenant },
      ),
    );
    const got = data(await query('chat.getSession', { id: imported.id }, { tenant }));
    expect(got.messages.map((m) => [m.role, m.content, m.createdAt.slice(0, 23)])).toEqual([
      ['USER', 'hi', '2024-01-01T08:00:00.000'],
      ['ASSISTANT', 'hello', '2024-01-01T08:00:00.500'],
      ['USER', 'now', expect.stringMatching(/^20/)],
    ]);
    expect(got.platform).toBe('API');
  });

  it('refuses bad imports whole: nothing is written', async () => {
    const tenant = await createTenant();
    const other = await createTenant('Other');
    const persona = await createPersona(tenant);
    const before = await rowCounts(tenant.organizationId);
    const ok = { role: 'USER', content: 'fine', createdAt: '2024-01-01T00:00:00Z' };
    const cases: [unknown, number, RegExp][] = [
      [{ personaId: persona.id, messages: [] }, 400, /at least one/],
      [{ personaId: persona.id, messages: [ok, { ...ok, createdAt: '2023-01-01T00:00:00Z' }] }, 400, /time order/],
      [{ personaId: persona.id, messages: [{ ...ok, feedback: { rating: 'UP' } }] }, 400, /only assistant/],
      [
        {
          personaId: persona.id,
          messages: [
            { ...ok, id: 'a' },
            { ...ok, id: 'a' },
          ],
        },
        400,
        /repeats/,
      ],
      [{ personaId: persona.id, messages: [{ ...ok, role: 'ROBOT' }] }, 400, /role/],
      [{ personaId: persona.id, messages: [{ ...ok, content: 'a\u0000b' }] }, 400, /NUL/],
      [{ personaId: persona.id, messages: [{ ...ok, createdAt: 'yesterday' }] }, 400, /createdAt/],
      [{ personaId: persona.id, messages: [{ ...ok, createdAt: '0000-01-01T00:00:00Z' }] }, 400, /createdAt/],
      [{ personaId: persona.id, messages: Array(5001).fill(ok) }, 400, /too many messages/],
      [{ personaId: 'persona_nope', messages: [ok] }, 404, /Persona/],
    ];
    for (const [input, status, message] of cases) {
      const res = await mutate('export.importSession', input, { tenant });
      expect(res.status, JSON.stringify(input).slice(0, 120)).toBe(status);
      expect(res.body.error?.message).toMatch(message);
    }
    // 90 messages of 100,000 characters: more than one import takes, refused before the database.
    const big = Array.from({ length: 90 }, () => ({ ...ok, content: 'z'.repeat(100_000) }));
    const tooBig = await mutate('export.importSession', { personaId: persona.id, messages: big }, { tenant });
    expect(tooBig.status).toBe(413);
    // Another organization's persona: 404, and nothing is written there either.
    expect(
      (await mutate('export.importSession', { personaId: persona.id, messages: [ok] }, { tenant: other })).status,
    ).toBe(404);
    expect(await rowCounts(tenant.organizationId)).toEqual(before);
    expect(await rowCounts(other.organizationId)).toEqual({ sessions: 0, messages: 0, feedback: 0 });
  });

  it("refuses other organizations' sessions", async () => {
    const tenant = await createTenant();
    const other = await createTenant('Other');
    const { session } = await richSession(tenant);
    expect((await query('export.session', { chatSessionId: session.id }, { tenant: other })).status).toBe(404);
    expect((await query('export.markdown', { chatSessionId: session.id }, { tenant: other })).status).toBe(404);
  });
});
