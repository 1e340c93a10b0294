/**
 * Bulk data straight into the database through the local SQL endpoint (one statement per chunk,
 * rows built here as JSON and expanded with jsonb_to_recordset), shaped as src/db/schema requires:
 * prefixed ULID ids, message_count in step with the messages, activity times in the past.
 */
import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../../src/ids.ts';

type Statement = { query: string; params?: unknown[] };
/** The local SQL endpoint and its per-start secret (dev/sql-server.ts refuses requests without it). */
export type SqlEndpoint = { url: string; secret: string };

export async function sqlBatch(endpoint: SqlEndpoint, statements: Statement[]): Promise<void> {
  const body = statements.length === 1 ? statements[0] : { queries: statements };
  const res = await fetch(endpoint.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-local-dev-secret': endpoint.secret,
      // Checked as Neon checks it; the local database is the same whatever it names.
      'neon-connection-string': 'postgresql://bench:bench@db.localhost:5432/app',
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`seed statement failed: HTTP ${res.status} ${text.slice(0, 500)}`);
}

/** More API keys for an organization (the rate limit counts per key). Returns the keys in full. */
export async function addApiKeys(endpoint: SqlEndpoint, organizationId: string, count: number): Promise<string[]> {
  const rows = Array.from({ length: count }, (_, i) => {
    const key = `pk_${randomBytes(24).toString('base64url')}`;
    return { id: newId('apiKey'), name: `bench-${i}`, prefix: key.slice(0, 10), hash: sha256(key), key };
  });
  await sqlBatch(endpoint, [
    {
      query: `insert into api_keys (id, organization_id, name, prefix, hash)
        select x.id, $2, x.name, x.prefix, x.hash
        from jsonb_to_recordset($1::jsonb) as x(id text, name text, prefix text, hash text)`,
      params: [JSON.stringify(rows.map(({ key: _key, ...row }) => row)), organizationId],
    },
  ]);
  return rows.map((r) => r.key);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const LOREM =
  'Thanks for reaching out. Your order shipped on Tuesday and should arrive within three business days. ' +
  'You can track it from the link in your confirmation e-mail, and if anything looks wrong, reply here ' +
  'with the order number and I will look into it right away. Is there anything else I can help with today?';

function userText(i: number): string {
  return `Question ${i + 1}: where is my order, and can I still change the delivery address before it ships?`;
}

function replyMetadata(i: number) {
  return {
    model: 'openai/gpt-4o-mini',
    offline: false,
    personaVersion: 1,
    settings: { temperature: null, maxOutputTokens: null },
    usage: { inputTokens: 120 + 40 * i, outputTokens: 70, totalTokens: 190 + 40 * i },
    finishReason: 'stop',
    latencyMs: 850,
    timeToFirstTokenMs: 310,
  };
}

/**
 * `count` sessions of one persona, each with `messagesEach` messages (USER and ASSISTANT taking
 * turns, each reply pointing at its question). Session k's last activity is k minutes before
 * `now`, so "newest activity first" is index order. Returns the ids in that order.
 */
export async function seedSessions(
  endpoint: SqlEndpoint,
  options: { organizationId: string; personaId: string; count: number; messagesEach: number; title?: string },
): Promise<string[]> {
  const { organizationId, personaId, count, messagesEach } = options;
  const now = Date.now() - 60_000;
  const ids: string[] = [];
  // Keep each statement's JSON around a few MB at most.
  const perChunk = Math.max(1, Math.min(2_000, Math.floor(8_000 / Math.max(1, messagesEach))));
  for (let start = 0; start < count; start += perChunk) {
    const sessions: Record<string, unknown>[] = [];
    const messages: Record<string, unknown>[] = [];
    for (let k = start; k < Math.min(count, start + perChunk); k++) {
      const id = newId('session');
      ids.push(id);
      const last = now - k * 60_000;
      const first = last - messagesEach * 1_000;
      let question = '';
      for (let j = 0; j < messagesEach; j++) {
        const at = new Date(first + (j + 1) * 1_000).toISOString();
        const user = j % 2 === 0;
        const messageId = newId('message');
        messages.push({
          id: messageId,
          session: id,
          role: user ? 'USER' : 'ASSISTANT',
          content: user ? userText(j >> 1) : LOREM,
          metadata: user ? {} : replyMetadata(j >> 1),
          reply_to: user ? null : question,
          at,
        });
        if (user) question = messageId;
      }
      const lastAt = new Date(messagesEach > 0 ? first + messagesEach * 1_000 : last).toISOString();
      sessions.push({
        id,
        title: `${options.title ?? 'Order question'} #${k + 1}`,
        count: messagesEach,
        created: new Date(first).toISOString(),
        at: lastAt,
      });
    }
    const statements: Statement[] = [
      {
        query: `insert into chat_sessions (id, organization_id, persona_id, title, platform, status, message_count,
            last_activity_at, created_at, updated_at)
          select x.id, $2, $3, x.title, 'API'::platform, 'ACTIVE'::session_status, x.count, x.at, x.created, x.at
          from jsonb_to_recordset($1::jsonb) as x(id text, title text, count int, created timestamptz, at timestamptz)`,
        params: [JSON.stringify(sessions), organizationId, personaId],
      },
    ];
    if (messages.length > 0) {
      statements.push({
        query: `insert into messages (id, organization_id, chat_session_id, role, content, status, metadata,
            reply_to_id, created_at, updated_at)
          select x.id, $2, x.session, x.role::message_role, x.content, 'COMPLETE'::message_status, x.metadata,
            x.reply_to, x.at, x.at
          from jsonb_to_recordset($1::jsonb) as x(id text, session text, role text, content text, metadata jsonb,
            reply_to text, at timestamptz)`,
        params: [JSON.stringify(messages), organizationId],
      });
    }
    await sqlBatch(endpoint, statements);
  }
  return ids;
}
