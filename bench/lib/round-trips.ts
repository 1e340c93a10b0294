/**
 * Database round trips per operation, counted at the local SQL endpoint (one request per driver
 * round trip). The operations run one at a time while nothing else runs. The key cache is warmed
 * before each (a call with the same key, then a pause for its background writes). For the sends,
 * the count at the moment the model server receives its request splits "before" from "after":
 * node:diagnostics_channel reports every HTTP request this process's servers receive, in order.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import type { FakeBehaviour } from '../../test/helpers/fake-behaviour.ts';
import type { FakeModelHandle } from '../../test/node/fake-openai.ts';
import { authHeaders, type Tenant, trpcMutation, trpcQuery } from './api.ts';
import { sleep } from './proc.ts';

export type RoundTripRow = {
  operation: string;
  before: number;
  after: number | null;
  target: string;
  pass: boolean;
  samples: string[];
};

type Counter = { requests(): number; resetCount(): void };

const SETTLE_MS = 150;
const REPEATS = 3;

async function readSse(url: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' } });
  const text = await res.text();
  if (!res.ok || !text.includes('"type":"reply"'))
    throw new Error(`stream failed: ${res.status} ${text.slice(0, 300)}`);
  return text;
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

/**
 * A streamed turn followed by `listeners` more clients: once the stored message arrives (its
 * event names the reply), each attaches with `lastEventId` = `<replyId>:0`, as httpSubscriptionLink
 * does on reconnect, and reads the reply to its end.
 */
async function streamWithListeners(
  base: string,
  headers: Record<string, string>,
  sessionId: string,
  listeners: number,
) {
  const url = (input: unknown) =>
    `${base}/api/trpc/chat.streamMessage?input=${encodeURIComponent(JSON.stringify(input))}`;
  const res = await fetch(url({ chatSessionId: sessionId, content: 'Follow me.' }), {
    headers: { ...headers, accept: 'text/event-stream' },
  });
  if (!res.ok || !res.body) throw new Error(`stream failed: ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const followers: Promise<string>[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
    const replyId = /"type":"message".*?"replyId":"(msg_[0-9A-Z]+)"/.exec(text)?.[1];
    if (replyId && followers.length === 0) {
      for (let i = 0; i < listeners; i++) {
        followers.push(
          readSse(url({ chatSessionId: sessionId, content: 'resume', lastEventId: `${replyId}:0` }), headers),
        );
      }
    }
  }
  if (!text.includes('"type":"reply"')) throw new Error(`stream ended without its reply: ${text.slice(0, 300)}`);
  if (followers.length !== listeners) throw new Error('the stored message never arrived');
  await Promise.all(followers);
}

export async function measureRoundTrips(options: {
  base: string;
  sql: Counter;
  modelPort: number;
  /** The fake model of the tenant's persona: each operation sets how it answers. */
  model: FakeModelHandle;
  tenant: Tenant;
  sessionId: string;
}): Promise<RoundTripRow[]> {
  const { base, sql, tenant, sessionId } = options;
  const headers = authHeaders(tenant, tenant.apiKey);
  let atModel: number | undefined;
  const onRequest = (message: unknown) => {
    const server = (message as { server?: Server }).server;
    const address = server?.address();
    if (typeof address === 'object' && address?.port === options.modelPort && atModel === undefined) {
      atModel = sql.requests();
    }
  };
  const streamUrl = (content: string) =>
    `${base}/api/trpc/chat.streamMessage?input=${encodeURIComponent(JSON.stringify({ chatSessionId: sessionId, content }))}`;
  const ops: {
    operation: string;
    target: [number, number | null];
    model?: FakeBehaviour;
    run: () => Promise<unknown>;
  }[] = [
    {
      operation: 'chat.createSession',
      target: [1, null],
      run: () => trpcMutation(base, headers, 'chat.createSession', { personaId: tenant.personaId }),
    },
    {
      operation: 'chat.sendMessage',
      target: [2, 1],
      run: () => trpcMutation(base, headers, 'chat.sendMessage', { chatSessionId: sessionId, content: 'Count me.' }),
    },
    { operation: 'chat.streamMessage (SSE)', target: [2, 1], run: () => readSse(streamUrl('Count me too.'), headers) },
    // The session object keeps a reply's progress to itself: Postgres work per turn is the same
    // small constant whatever the reply's length and however many clients follow it.
    {
      operation: 'streamMessage, 10-token reply',
      target: [1, 1],
      model: { reply: words(10) },
      run: () => readSse(streamUrl('Ten tokens, please.'), headers),
    },
    {
      operation: 'streamMessage, 2,000-token reply (> 2 s)',
      target: [1, 1],
      model: { reply: words(2_000), delayMs: 1 },
      run: () => readSse(streamUrl('Two thousand tokens, please.'), headers),
    },
    {
      operation: 'streamMessage + 1 listener',
      target: [1, 1],
      model: { delayMs: 20 },
      run: () => streamWithListeners(base, headers, sessionId, 1),
    },
    {
      operation: 'streamMessage + 10 listeners',
      target: [1, 1],
      model: { delayMs: 20 },
      run: () => streamWithListeners(base, headers, sessionId, 10),
    },
    {
      operation: 'chat.getSession',
      target: [1, null],
      run: () => trpcQuery(base, headers, 'chat.getSession', { id: sessionId }),
    },
    { operation: 'chat.listSessions', target: [1, null], run: () => trpcQuery(base, headers, 'chat.listSessions', {}) },
    {
      operation: 'chat.updateSession',
      target: [1, null],
      run: () => trpcMutation(base, headers, 'chat.updateSession', { id: sessionId, title: 'Renamed by the bench' }),
    },
    {
      operation: 'chat.listMessages',
      target: [1, null],
      run: () => trpcQuery(base, headers, 'chat.listMessages', { chatSessionId: sessionId }),
    },
  ];
  subscribe('http.server.request.start', onRequest);
  const rows: RoundTripRow[] = [];
  try {
    for (const op of ops) {
      options.model.configure(op.model ?? {});
      const samples: { before: number; after: number | null }[] = [];
      for (let i = 0; i < REPEATS; i++) {
        await trpcQuery(base, headers, 'chat.listSessions', { limit: 1 });
        await sleep(SETTLE_MS);
        sql.resetCount();
        atModel = undefined;
        await op.run();
        await sleep(SETTLE_MS);
        const total = sql.requests();
        const modelCalled = op.target[1] !== null;
        if (modelCalled && atModel === undefined) throw new Error(`${op.operation}: the model server was not called`);
        samples.push(
          modelCalled ? { before: atModel ?? 0, after: total - (atModel ?? 0) } : { before: total, after: null },
        );
      }
      const before = Math.max(...samples.map((s) => s.before));
      const after = op.target[1] === null ? null : Math.max(...samples.map((s) => s.after ?? 0));
      const [targetBefore, targetAfter] = op.target;
      rows.push({
        operation: op.operation,
        before,
        after,
        target: targetAfter === null ? `<= ${targetBefore}` : `<= ${targetBefore} before, <= ${targetAfter} after`,
        pass: before <= targetBefore && (targetAfter === null || (after ?? 0) <= targetAfter),
        samples: samples.map((s) => (s.after === null ? `${s.before}` : `${s.before}+${s.after}`)),
      });
    }
  } finally {
    unsubscribe('http.server.request.start', onRequest);
  }
  return rows;
}
