/**
 * A local model server speaking OpenAI's real HTTP streaming wire protocols (Responses API and
 * Chat Completions), so `@ai-sdk/openai` runs unmodified against it. A request's `model` picks its
 * behaviour: `fake:<token>` names one a test registered (PUT /__models/<token>, see
 * test/helpers/fake-model.ts: delay, HTTP status, fail N times, cut or stall after K chunks, fixed
 * reply); any other model echoes the prompt. Every request is recorded; GET /__requests returns
 * them (the tests read them from workerd).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { offlineEmbedding } from '../../src/ai/offline-embedder.ts';
import { FAKE_MODEL_PREFIX, FAKE_MODELS_PATH, type FakeBehaviour } from '../helpers/fake-behaviour.ts';

export type RecordedRequest = { path: string; body: Record<string, unknown>; at: number };

/** A fake model of a server in this process (the bench): its model id, and a way to change how it answers. */
export type FakeModelHandle = { id: string; configure(behaviour: FakeBehaviour): void };

export type FakeOpenAIServer = Awaited<ReturnType<typeof startFakeOpenAI>>;

/** Model names of /v1/embeddings that fail (a test of ingestion surviving a failed embedding call). */
export const FAILING_EMBEDDING_MODEL = 'fake-embedding-500';

/**
 * POST /v1/embeddings as OpenAI answers it: `input` is a string or a list of strings, `dimensions`
 * optional; each vector is the offline embedder's (src/ai/offline-embedder.ts), so tests and the
 * bench get the same deterministic vectors as `npm run dev` without a key.
 */
function embeddings(body: Record<string, unknown>): [number, unknown] {
  const model = String(body.model ?? '');
  if (model === FAILING_EMBEDDING_MODEL) {
    return [500, { error: { message: 'scripted HTTP 500', type: 'server_error', code: null } }];
  }
  const input = typeof body.input === 'string' ? [body.input] : (body.input as unknown[] | undefined);
  if (!Array.isArray(input) || input.some((v) => typeof v !== 'string')) {
    return [400, { error: { message: 'input must be a string or a list of strings', type: 'invalid_request_error' } }];
  }
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : 1536;
  const tokens = input.reduce((n: number, v) => n + Math.ceil(String(v).length / 4), 0);
  return [
    200,
    {
      object: 'list',
      data: input.map((v, index) => ({
        object: 'embedding',
        index,
        embedding: offlineEmbedding(String(v), dimensions),
      })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  ];
}

function lastUserText(path: string, body: Record<string, unknown>): string {
  const list = (path.endsWith('/responses') ? body.input : body.messages) as
    | { role: string; content: unknown }[]
    | undefined;
  const user = [...(list ?? [])].reverse().find((m) => m.role === 'user');
  if (!user) return '';
  if (typeof user.content === 'string') return user.content;
  return (user.content as { text?: string }[]).map((p) => p.text ?? '').join('\n');
}

/** The default answer: deterministic, derived from the prompt so tests can predict it. */
export function defaultReply(userText: string): string {
  const firstLine = userText.split('\n')[0]?.trim() ?? '';
  return `You said: ${firstLine.slice(0, 120)}. This is a streamed test reply.`;
}

function chunksOf(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [text];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>;
}

export async function startFakeOpenAI(options: { port?: number } = {}) {
  const recorded: RecordedRequest[] = [];
  // Kept apart from `recorded`: tests count model calls there, and embedding calls are not turns.
  const embeddingRequests: RecordedRequest[] = [];
  const behaviours = new Map<string, FakeBehaviour>();
  const attempts = new Map<string, number>();

  /** Registers (or replaces) the behaviour of `fake:<token>`; returns that model id. */
  function register(behaviour: FakeBehaviour, token: string = randomUUID()): string {
    behaviours.set(token, behaviour);
    attempts.delete(token);
    return FAKE_MODEL_PREFIX + token;
  }

  async function stream(
    res: ServerResponse,
    path: string,
    body: Record<string, unknown>,
    d: FakeBehaviour,
    text: string,
  ) {
    const model = String(body.model ?? 'unknown');
    const pieces = chunksOf(text);
    const limit = d.cutAfter ?? d.stallAfter ?? pieces.length;
    const usage = { input: JSON.stringify(body).length >> 2, output: text.length >> 2 };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const isResponses = path.endsWith('/responses');
    const id = `resp_${Date.now()}`;
    if (isResponses) {
      send({ type: 'response.created', response: { id, created_at: Math.floor(Date.now() / 1000), model } });
      send({ type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'msg_0' } });
    }
    for (let i = 0; i < Math.min(limit, pieces.length); i++) {
      if (d.delayMs) await sleep(d.delayMs);
      if (res.destroyed) return;
      if (isResponses)
        send({ type: 'response.output_text.delta', item_id: 'msg_0', output_index: 0, delta: pieces[i] });
      else
        send({
          id,
          object: 'chat.completion.chunk',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [{ index: 0, delta: { role: 'assistant', content: pieces[i] }, finish_reason: null }],
        });
    }
    if (d.cutAfter !== undefined) {
      // Let what was sent reach the client before the connection drops, as on a real network.
      await sleep(50);
      res.socket?.destroy();
      return;
    }
    if (d.stallAfter !== undefined) return; // never ends; the client's timeout must fire
    if (isResponses) {
      send({ type: 'response.output_item.done', output_index: 0, item: { type: 'message', id: 'msg_0' } });
      send({
        type: 'response.completed',
        response: { usage: { input_tokens: usage.input, output_tokens: usage.output } },
      });
    } else {
      send({
        id,
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: usage.input,
          completion_tokens: usage.output,
          total_tokens: usage.input + usage.output,
        },
      });
      res.write('data: [DONE]\n\n');
    }
    res.end();
  }

  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path.endsWith('/embeddings')) {
      const body = await readJson(req);
      embeddingRequests.push({ path, body, at: Date.now() });
      const [status, answer] = embeddings(body);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
      return;
    }
    if (req.method === 'GET' && path === '/__embeddings') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(embeddingRequests));
      return;
    }
    if (req.method === 'GET' && path === '/__requests') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(recorded));
      return;
    }
    if (req.method === 'PUT' && path.startsWith(`${FAKE_MODELS_PATH}/`)) {
      const model = register((await readJson(req)) as FakeBehaviour, path.slice(FAKE_MODELS_PATH.length + 1));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ model }));
      return;
    }
    if (req.method !== 'POST' || !(path.endsWith('/responses') || path.endsWith('/chat/completions'))) {
      res.writeHead(404).end();
      return;
    }
    const body = await readJson(req);
    recorded.push({ path, body, at: Date.now() });
    const userText = lastUserText(path, body);
    const model = String(body.model ?? '');
    const token = model.startsWith(FAKE_MODEL_PREFIX) ? model.slice(FAKE_MODEL_PREFIX.length) : undefined;
    const d = token === undefined ? {} : behaviours.get(token);
    if (!d) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `unknown fake model ${model}`, type: 'invalid_request_error' } }));
      return;
    }
    let status = d.status;
    if (d.fail && token !== undefined) {
      const seen = (attempts.get(token) ?? 0) + 1;
      attempts.set(token, seen);
      if (seen <= d.fail.times) status = d.fail.status;
    }
    if (status !== undefined) {
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after-ms': '10' });
      res.end(JSON.stringify({ error: { message: `scripted HTTP ${status}`, type: 'server_error', code: null } }));
      return;
    }
    await stream(res, path, body, d, d.reply ?? defaultReply(userText));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests: () => recorded,
    /** The /v1/embeddings requests so far (kept apart from the model requests). */
    embeddingRequests: () => embeddingRequests,
    /** For a server in this process (the bench): a model answering with `behaviour` until configured otherwise. */
    fakeModel(behaviour: FakeBehaviour = {}): FakeModelHandle {
      const token = randomUUID();
      return { id: register(behaviour, token), configure: (next) => void register(next, token) };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
