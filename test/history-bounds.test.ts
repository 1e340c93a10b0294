import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { LIST_PAGE_BYTES } from '../src/db/queries/messages';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { metadataOf } from './helpers/chat';
import { conversation, marker, modelRequests } from './helpers/factories';

/**
 * Reads bounded in the database: a send on a long, heavy session receives only the history its
 * context budget can take, and a listMessages page stops at LIST_PAGE_BYTES. What the database
 * returned is measured at the driver's transport (the size of each SQL-over-HTTP answer).
 */
const db = createDb(env);
let answers: number[] = [];
const realFetch = globalThis.fetch;
beforeEach(() => {
  answers = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const res = await realFetch(input, init);
    if (url === env.LOCAL_SQL_ENDPOINT) answers.push((await res.clone().arrayBuffer()).byteLength);
    return res;
  }) as typeof fetch;
});
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** `count` old messages of `chars` characters, each with an attachment of `attachmentChars`. */
async function heavyHistory(tenant: Tenant, sessionId: string, count: number, chars: number, attachmentChars: number) {
  const org = tenant.organizationId;
  await db.execute(sql`
    insert into messages (id, organization_id, chat_session_id, role, content, status, created_at, updated_at)
    select ${`msg_${sessionId.slice(-12)}`} || lpad(g::text, 14, '0'), ${org}, ${sessionId},
      (case when g % 2 = 0 then 'ASSISTANT' else 'USER' end)::message_role,
      'old message ' || g || ' ' || repeat('x', ${chars}), 'COMPLETE'::message_status,
      now() - make_interval(secs => 10000 - g), now() - make_interval(secs => 10000 - g)
    from generate_series(1, ${count}) g`);
  if (attachmentChars > 0) {
    await db.execute(sql`
      insert into attachments (id, organization_id, message_id, filename, declared_type, detected_type,
        byte_size, sha256, page_count, char_count, text, truncated, has_text)
      select ${`att_${sessionId.slice(-12)}`} || lpad(g::text, 14, '0'), ${org},
        ${`msg_${sessionId.slice(-12)}`} || lpad(g::text, 14, '0'), 'notes.txt', 'text/plain', 'text/plain',
        ${attachmentChars}, repeat('0', 64), null, ${attachmentChars}, repeat('y', ${attachmentChars}), false, true
      from generate_series(1, ${count}) g where g % 2 = 1`);
  }
  await db.execute(sql`update chat_sessions set message_count = message_count + ${count} where id = ${sessionId}`);
}

describe('history read bounded in the database', () => {
  it('a send on 100 long messages with attachments receives only what the budget can take', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    // 100 × 20,000 characters, 50 attachments × 50,000: about 4.5 MB of history.
    await heavyHistory(tenant, session.id, 100, 20_000, 50_000);
    const m = marker('light');
    answers = [];
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: m }, { tenant }));
    expect(reply.status).toBe('COMPLETE');
    // The first answer holds the stored message and the history: budget (16,000 tokens ≈ 64,000
    // characters) plus at most the one message that crosses it (20,000 + 50,000), not 4.5 MB.
    expect(answers[0]).toBeGreaterThan(20_000);
    expect(answers[0]).toBeLessThan(64_000 + 70_000 + 20_000);
    // The model got the newest messages, and the reply says how many were left out.
    const [request] = await modelRequests(m);
    expect(JSON.stringify(request?.body)).toContain('old message 100 ');
    expect(JSON.stringify(request?.body)).not.toContain('old message 1 ');
    expect(metadataOf(reply).context.messagesOmitted).toBeGreaterThan(90);
  });

  it('listMessages pages stop at LIST_PAGE_BYTES, and the next page carries on', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    // 60 × 100,000 characters = 6 MB: over one page's bytes, under its 200-message limit.
    await heavyHistory(tenant, session.id, 60, 100_000, 0);
    answers = [];
    const first = data(await query('chat.listMessages', { chatSessionId: session.id, limit: 200 }, { tenant }));
    const perRow = 100_000;
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.length).toBeLessThan(60);
    expect(first.length).toBeLessThanOrEqual(Math.floor(LIST_PAGE_BYTES / perRow) + 1);
    expect(answers.at(-1)).toBeLessThan(LIST_PAGE_BYTES + 2 * perRow + 50_000);
    const rest = data(
      await query('chat.listMessages', { chatSessionId: session.id, limit: 200, cursor: first.at(-1)?.id }, { tenant }),
    );
    expect(first.length + rest.length).toBe(60);
    expect(new Set([...first, ...rest].map((x) => x.id)).size).toBe(60);
  });
});
