import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { SEARCH_MAX_RANKED } from '../src/db/queries/search';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { defined } from './helpers/assert';
import { createPersona, createSession } from './helpers/factories';

/** Stores a message as given (ASSISTANT/SYSTEM sends call no model). */
async function say(tenant: Tenant, chatSessionId: string, content: string, role = 'ASSISTANT') {
  return data(await mutate('chat.sendMessage', { chatSessionId, content, role }, { tenant }));
}

const search = (tenant: Tenant, input: Record<string, unknown>) => query('search.messages', input, { tenant });
const hits = async (tenant: Tenant, input: Record<string, unknown>) => data(await search(tenant, input)).items;

describe('search', () => {
  let tenant: Tenant;
  let other: Tenant;
  let ada: { id: string };
  let s1: { id: string };
  let s2: { id: string };
  const m = {} as Record<'refund' | 'refundOnce' | 'user' | 'bob' | 'password', Awaited<ReturnType<typeof say>>>;

  beforeAll(async () => {
    tenant = await createTenant('Search org');
    other = await createTenant('Search other');
    ada = await createPersona(tenant, { name: 'Ada' });
    const bob = await createPersona(tenant, { name: 'Bob' });
    s1 = await createSession(tenant, ada.id, { userId: 'u1', platform: 'MOBILE', title: 'Billing' });
    s2 = await createSession(tenant, bob.id, { userId: 'u2' });
    m.refund = await say(
      tenant,
      s1.id,
      'Your refund was issued. Refunds take five days; the refund appears on your card.',
    );
    m.refundOnce = await say(
      tenant,
      s1.id,
      'We discussed many things today, including a refund, shipping and returns.',
    );
    m.user = await say(tenant, s1.id, 'refund please', 'SYSTEM');
    m.bob = await say(tenant, s2.id, 'Refund rule: when 5 < 6 & 7 > 3 ask Bob about the refund.');
    m.password = await say(tenant, s2.id, 'To reset your password open Settings, then Security.');
    const o = await createPersona(other, { name: 'Other' });
    const os = await createSession(other, o.id);
    // The other organization's text names this organization's id: it must not make it visible here.
    await say(other, os.id, `refund secret of ${tenant.organizationId} ${tenant.organizationId.toLowerCase()}`);
  });

  it('finds messages best first, with highlighted snippets and the session they belong to', async () => {
    const found = await hits(tenant, { query: 'refund' });
    expect(found.map((h) => h.messageId).sort()).toEqual([m.refund.id, m.refundOnce.id, m.user.id, m.bob.id].sort());
    const ranks = found.map((h) => h.rank);
    expect([...ranks].sort((a, b) => b - a)).toEqual(ranks);
    const first = defined(found.find((h) => h.messageId === m.refund.id));
    expect(first).toMatchObject({
      chatSessionId: s1.id,
      role: 'ASSISTANT',
      session: { title: 'Billing', personaId: ada.id, personaName: 'Ada', userId: 'u1', platform: 'MOBILE' },
    });
    expect(first.highlights.length).toBeGreaterThanOrEqual(2);
    for (const h of first.highlights) expect(first.snippet.slice(h.start, h.end).toLowerCase()).toBe('refund');
    expect(first.snippetHtml).toContain('<mark>refund</mark>');
    // Ranked above the message that mentions refund once among many words.
    expect(ranks[found.indexOf(first)]).toBeGreaterThan(
      defined(found.find((h) => h.messageId === m.refundOnce.id)).rank,
    );

    const bob = defined(found.find((h) => h.messageId === m.bob.id));
    // Text is escaped in the HTML form (ts_headline itself drops HTML tags from snippets).
    expect(bob.snippet).toContain('5 < 6 & 7 > 3');
    expect(bob.snippetHtml).toContain('5 &lt; 6 &amp; 7 &gt; 3');

    expect((await hits(tenant, { query: '"reset your password"' })).map((h) => h.messageId)).toEqual([m.password.id]);
    expect((await hits(tenant, { query: 'refund -bob' })).map((h) => h.messageId)).not.toContain(m.bob.id);
    expect((await hits(tenant, { query: 'password or shipping' })).map((h) => h.messageId).sort()).toEqual(
      [m.password.id, m.refundOnce.id].sort(),
    );
  });

  it('filters by persona, user, session, status, platform, role and dates', async () => {
    const ids = async (input: Record<string, unknown>) =>
      (await hits(tenant, { query: 'refund', ...input })).map((h) => h.messageId).sort();
    expect(await ids({ personaId: ada.id })).toEqual([m.refund.id, m.refundOnce.id, m.user.id].sort());
    expect(await ids({ userId: 'u2' })).toEqual([m.bob.id]);
    expect(await ids({ chatSessionId: s2.id })).toEqual([m.bob.id]);
    expect(await ids({ platform: 'MOBILE', role: 'SYSTEM' })).toEqual([m.user.id]);
    expect(await ids({ status: 'ARCHIVED' })).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await ids({ from: future })).toEqual([]);
    expect(await ids({ from: m.bob.createdAt, to: future })).toEqual([m.bob.id]);
    expect((await search(tenant, { query: 'refund', from: 'last week' })).status).toBe(400);
  });

  it('stays inside the organization', async () => {
    const theirs = await hits(other, { query: 'refund' });
    expect(theirs).toHaveLength(1);
    expect(theirs[0]?.messageId).not.toBe(m.refund.id);
    // Naming the other organization's id or session finds nothing of it.
    expect(await hits(other, { query: 'refund', chatSessionId: s1.id })).toEqual([]);
    expect(await hits(other, { query: 'refund', personaId: ada.id })).toEqual([]);
    expect((await hits(tenant, { query: 'secret' })).length).toBe(0);
  });

  it('pages through ties on rank without gaps or repeats', async () => {
    const t = await createTenant('Ties');
    const p = await createPersona(t);
    const s = await createSession(t, p.id);
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await say(t, s.id, 'identical tie text')).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = data(await search(t, { query: 'tie', limit: 3, ...(cursor ? { cursor } : {}) }));
      seen.push(...page.items.map((h) => h.messageId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...made].reverse());
    expect((await search(t, { query: 'tie', cursor: 'garbage' })).status).toBe(400);
  });

  it('bounds hostile queries and leaves out replies being generated', async () => {
    expect((await search(tenant, { query: 'x'.repeat(201) })).status).toBe(400);
    const words = Array.from({ length: 17 }, (_, i) => `w${i}`).join(' ');
    const tooMany = await search(tenant, { query: words });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error?.message).toMatch(/too many words/);
    expect((await search(tenant, { query: '' })).status).toBe(400);
    expect((await search(tenant, { query: 'a\u0000b' })).status).toBe(400);
    expect((await search(tenant, { query: 'x\ud800' })).status).toBe(400);
    expect((await search(tenant, { query: 'refund', limit: 51 })).status).toBe(400);
    // Operators and quotes of every kind are text to websearch_to_tsquery, never an error.
    for (const q of ["' OR 1=1 --", '!!! ((( ::: &&& |||', '"unclosed', '-', 'refund:* & !', '\\\u0002\u0003']) {
      const res = await search(tenant, { query: q });
      expect(res.status, q).toBe(200);
    }
    // No words at all matches nothing (not everything).
    expect(await hits(tenant, { query: '!!! ---' })).toEqual([]);

    const generating = await say(tenant, s1.id, 'zanzibar itinerary');
    await createDb(env).execute(sql`update messages set status = 'STREAMING' where id = ${generating.id}`);
    expect(await hits(tenant, { query: 'zanzibar' })).toEqual([]);
    await createDb(env).execute(sql`update messages set status = 'COMPLETE' where id = ${generating.id}`);
    expect((await hits(tenant, { query: 'zanzibar' })).map((h) => h.messageId)).toEqual([generating.id]);
  });

  it(`ranks only the newest ${SEARCH_MAX_RANKED} matches of a very broad query`, async () => {
    const t = await createTenant('Broad');
    const p = await createPersona(t);
    const s = await createSession(t, p.id);
    // The 5 oldest of SEARCH_MAX_RANKED + 5 matches would rank first (the word three times).
    await createDb(env).execute(sql`
      insert into messages (id, organization_id, chat_session_id, role, content, created_at)
      select 'msg_broad_' || lpad(i::text, 5, '0'), ${t.organizationId}, ${s.id}, 'ASSISTANT',
        case when i <= 5 then 'common common common' else 'common word ' || i end,
        now() - make_interval(secs => ${SEARCH_MAX_RANKED + 10} - i)
      from generate_series(1, ${SEARCH_MAX_RANKED + 5}) i`);
    const page = data(await search(t, { query: 'common', limit: 50 }));
    expect(page.items).toHaveLength(50);
    expect(page.items.map((h) => h.messageId)).not.toContain('msg_broad_00001');
    const narrowed = data(await search(t, { query: 'common', to: new Date(Date.now() - 990_000).toISOString() }));
    expect(narrowed.items[0]?.messageId).toMatch(/^msg_broad_0000[1-5]$/);
  });
});
