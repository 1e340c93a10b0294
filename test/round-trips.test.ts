import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { metadataOf } from './helpers/chat';
import { conversation } from './helpers/factories';

/**
 * Database round trips per operation, counted at the driver's transport: every Neon HTTP request
 * is one round trip. Requests are made through the app in this isolate (`env` overrides), so the
 * counting wrapper around fetch sees them in order, interleaved with the model call.
 */
let trace: ('db' | 'model' | 'embed' | 'other')[] = [];
const realFetch = globalThis.fetch;

beforeEach(() => {
  trace = [];
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const sqlEndpoint = env.LOCAL_SQL_ENDPOINT ?? '';
    const model = url.startsWith(env.OPENAI_BASE_URL ?? '-');
    trace.push(url === sqlEndpoint ? 'db' : model && url.endsWith('/embeddings') ? 'embed' : model ? 'model' : 'other');
    return realFetch(input, init);
  }) as typeof fetch;
});
afterEach(() => {
  globalThis.fetch = realFetch;
});

const local = { env: {} };

async function traced<T>(tenant: Tenant, run: (t: Tenant) => Promise<T>) {
  // Warm the isolate's key cache first, as a client making its second call would have it.
  await query('chat.listSessions', { limit: 1 }, { tenant, ...local });
  await new Promise((resolve) => setTimeout(resolve, 50));
  trace = [];
  const result = await run(tenant);
  return { result, trace: [...trace] };
}

describe('database round trips', () => {
  it('sendMessage: 1 before the model call (warm key cache) and 1 after', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const { result, trace: calls } = await traced(tenant, (t) =>
      mutate('chat.sendMessage', { chatSessionId: session.id, content: 'count me' }, { tenant: t, ...local }),
    );
    expect(data(result).status).toBe('COMPLETE');
    expect(calls).toEqual(['db', 'model', 'db']);
  });

  it('regenerate: 2 before the model call (find the message; store and read) and 1 after; versions: 1', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'again' }, { tenant }));
    const { result, trace: calls } = await traced(tenant, (t) =>
      mutate('chat.regenerate', { messageId: reply.id }, { tenant: t, ...local }),
    );
    expect(data(result).status).toBe('COMPLETE');
    expect(calls).toEqual(['db', 'db', 'model', 'db']);
    const listed = await traced(tenant, (t) =>
      query('chat.listReplyVersions', { messageId: reply.id }, { tenant: t, ...local }),
    );
    expect(listed.trace).toEqual(['db']);
    const chosen = await traced(tenant, (t) =>
      mutate('chat.selectReplyVersion', { replyId: reply.id }, { tenant: t, ...local }),
    );
    expect(chosen.trace).toEqual(['db']);
  });

  it('editMessage: 2 before the model call (find the message; store and read) and 1 after; branches: 1, switch: 2', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'first' }, { tenant }));
    const messageId = reply.replyToId ?? '';
    const { result, trace: calls } = await traced(tenant, (t) =>
      mutate('chat.editMessage', { messageId, content: 'second' }, { tenant: t, ...local }),
    );
    expect(data(result).status).toBe('COMPLETE');
    expect(calls).toEqual(['db', 'db', 'model', 'db']);
    const listed = await traced(tenant, (t) =>
      query('chat.listBranches', { chatSessionId: session.id }, { tenant: t, ...local }),
    );
    expect(listed.trace).toEqual(['db']);
    const switched = await traced(tenant, (t) =>
      mutate('chat.switchBranch', { chatSessionId: session.id, branchId: messageId }, { tenant: t, ...local }),
    );
    expect(switched.trace).toEqual(['db', 'db']);
  });

  // With pgvector (PGlite here) the persona's source is embedded, so the question is embedded (one
  // call to the model server) before the hybrid search; without it (PostgreSQL 15) full-text only.
  it('sendMessage to a persona with knowledge: 2 before (the retrieval search, after the question embedding where pgvector exists) and 1 after', async () => {
    const tenant = await createTenant();
    const { persona, session } = await conversation(tenant);
    const source = data(
      await mutate(
        'source.add',
        { personaId: persona.id, filename: 'kb.txt', mimeType: 'text/plain', data: btoa('The zorbulator is blue.') },
        { tenant },
      ),
    );
    for (let i = 0; i < 400; i++) {
      if (data(await query('source.get', { id: source.id }, { tenant })).status === 'READY') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const { result, trace: calls } = await traced(tenant, (t) =>
      mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: 'what colour is the zorbulator' },
        { tenant: t, ...local },
      ),
    );
    expect(metadataOf(data(result)).knowledge.used[0]?.filename).toBe('kb.txt');
    const hybrid = env.TEST_DATABASE_KIND === 'pglite';
    expect(calls).toEqual(hybrid ? ['db', 'embed', 'db', 'model', 'db'] : ['db', 'db', 'model', 'db']);
  });

  it('sendMessage with an attachment: 2 before (the session is checked before parsing) and 1 after', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const attachments = [{ filename: 'notes.txt', mimeType: 'text/plain', data: btoa('some notes') }];
    const { trace: calls } = await traced(tenant, (t) =>
      mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: 'see file', attachments },
        { tenant: t, ...local },
      ),
    );
    expect(calls).toEqual(['db', 'db', 'model', 'db']);
  });

  it('sendMessage with a large (chunked) attachment: the retrieval search is one more before the model', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    // Over ATTACHMENT_CHUNK_MIN_CHARS: its chunks are written in the turn's batch, then searched.
    const text = Array.from({ length: 400 }, (_, i) => `Entry ${i}: the ledger balances.`).join('\n');
    const attachments = [{ filename: 'ledger.txt', mimeType: 'text/plain', data: btoa(text) }];
    const { trace: calls } = await traced(tenant, (t) =>
      mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, content: 'does the ledger balance', attachments },
        { tenant: t, ...local },
      ),
    );
    expect(calls).toEqual(['db', 'db', 'db', 'model', 'db']);
  });

  it('every other chat procedure is one round trip', async () => {
    const tenant = await createTenant();
    const { persona, session } = await conversation(tenant);
    const ops: [string, (t: Tenant) => Promise<unknown>][] = [
      ['createSession', (t) => mutate('chat.createSession', { personaId: persona.id }, { tenant: t, ...local })],
      ['getSession', (t) => query('chat.getSession', { id: session.id }, { tenant: t, ...local })],
      ['listSessions', (t) => query('chat.listSessions', {}, { tenant: t, ...local })],
      ['listSessions (page 2)', (t) => query('chat.listSessions', { cursor: session.id }, { tenant: t, ...local })],
      ['updateSession', (t) => mutate('chat.updateSession', { id: session.id, title: 'x' }, { tenant: t, ...local })],
      ['listMessages', (t) => query('chat.listMessages', { chatSessionId: session.id }, { tenant: t, ...local })],
      [
        'sendMessage (SYSTEM)',
        (t) =>
          mutate(
            'chat.sendMessage',
            { chatSessionId: session.id, content: 'n', role: 'SYSTEM' },
            { tenant: t, ...local },
          ),
      ],
      ['deleteSession', (t) => mutate('chat.deleteSession', { id: session.id }, { tenant: t, ...local })],
    ];
    for (const [name, op] of ops) {
      const { trace: calls } = await traced(tenant, op);
      expect(calls, name).toEqual(['db']);
    }
  });

  it('feedback, search, export and import are one round trip each', async () => {
    const tenant = await createTenant();
    const { persona, session } = await conversation(tenant);
    const reply = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'rate me' }, { tenant }));
    const ops: [string, (t: Tenant) => Promise<unknown>][] = [
      ['feedback.rate', (t) => mutate('feedback.rate', { messageId: reply.id, rating: 'UP' }, { tenant: t, ...local })],
      [
        'feedback.listForSession',
        (t) => query('feedback.listForSession', { chatSessionId: session.id }, { tenant: t, ...local }),
      ],
      [
        'feedback.listForPersona',
        (t) => query('feedback.listForPersona', { personaId: persona.id }, { tenant: t, ...local }),
      ],
      ['feedback.remove', (t) => mutate('feedback.remove', { messageId: reply.id }, { tenant: t, ...local })],
      ['search.messages', (t) => query('search.messages', { query: 'rate' }, { tenant: t, ...local })],
      ['export.session', (t) => query('export.session', { chatSessionId: session.id }, { tenant: t, ...local })],
      ['export.markdown', (t) => query('export.markdown', { chatSessionId: session.id }, { tenant: t, ...local })],
      [
        'export.importSession',
        (t) =>
          mutate(
            'export.importSession',
            { personaId: persona.id, messages: [{ role: 'USER', content: 'hi' }] },
            { tenant: t, ...local },
          ),
      ],
    ];
    for (const [name, op] of ops) {
      const { result, trace: calls } = await traced(tenant, op);
      expect((result as { status: number }).status, name).toBe(200);
      expect(calls, name).toEqual(['db']);
    }
  });

  it('a cold key costs one lookup, and its last-used write happens in the background', async () => {
    const tenant = await createTenant();
    trace = [];
    const res = await query('chat.listSessions', {}, { tenant, ...local });
    expect(res.status).toBe(200);
    // lookup + (touch, in waitUntil) + the query itself
    expect(trace.filter((c) => c === 'db')).toHaveLength(3);
  });
});
