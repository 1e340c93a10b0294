/**
 * A local model server speaking OpenAI's real HTTP streaming wire protocols (Responses API and
 * Chat Completions), so `@ai-sdk/openai` runs unmodified against it. Behaviour is scripted by
 * directives in the last user message, which tests control:
 *   [[delay:MS]]        wait MS between chunks (default 0)
 *   [[status:CODE]]     answer every attempt with HTTP CODE
 *   [[fail:N:CODE:KEY]] answer the first N attempts carrying KEY with HTTP CODE, then normally
 *   [[cut:K]]           send K text chunks, then drop the connection
 *   [[stall:K]]         send K text chunks, then nothing more (until the client gives up)
 *   [[reply:TEXT]]      answer TEXT instead of the default echo
 * Every request is recorded; GET /__requests returns them (the tests read them from workerd).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RecordedRequest = { path: string; body: Record<string, unknown>; at: number };

type Directives = {
  delay: number;
  status?: number;
  fail?: { n: number; code: number; key: string };
  cut?: number;
  stall?: number;
  reply?: string;
};

function lastUserText(path: string, body: Record<string, unknown>): string {
  const list = (path.endsWith('/responses') ? body.input : body.messages) as
    | { role: string; content: unknown }[]
    | undefined;
  const user = [...(list ?? [])].reverse().find((m) => m.role === 'user');
  if (!user) return '';
  if (typeof user.content === 'string') return user.content;
  return (user.content as { text?: string }[]).map((p) => p.text ?? '').join('\n');
}

function parseDirectives(text: string): Directives {
  const d: Directives = { delay: 0 };
  for (const [, name, arg = ''] of text.matchAll(/\[\[(\w+)(?::([^\]]*))?\]\]/g)) {
    if (name === 'delay') d.delay = Number(arg);
    else if (name === 'status') d.status = Number(arg);
    else if (name === 'cut') d.cut = Number(arg);
    else if (name === 'stall') d.stall = Number(arg);
    else if (name === 'reply') d.reply = arg;
    else if (name === 'fail') {
      const [n, code, key] = arg.split(':');
      d.fail = { n: Number(n), code: Number(code), key: key ?? '' };
    }
  }
  return d;
}

/** The default answer: deterministic, derived from the prompt so tests can predict it. */
export function defaultReply(userText: string): string {
  const firstLine =
    userText
      .split('\n')[0]
      ?.replace(/\[\[[^\]]*\]\]/g, '')
      .trim() ?? '';
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
  const attempts = new Map<string, number>();

  async function stream(res: ServerResponse, path: string, body: Record<string, unknown>, d: Directives, text: string) {
    const model = String(body.model ?? 'unknown');
    const pieces = chunksOf(text);
    const limit = d.cut ?? d.stall ?? pieces.length;
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
      if (d.delay > 0) await sleep(d.delay);
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
    if (d.cut !== undefined) {
      // Let what was sent reach the client before the connection drops, as on a real network.
      await sleep(50);
      res.socket?.destroy();
      return;
    }
    if (d.stall !== undefined) return; // never ends; the client's timeout must fire
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
    if (req.method === 'GET' && path === '/__requests') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(recorded));
      return;
    }
    if (req.method !== 'POST' || !(path.endsWith('/responses') || path.endsWith('/chat/completions'))) {
      res.writeHead(404).end();
      return;
    }
    const body = await readJson(req);
    recorded.push({ path, body, at: Date.now() });
    const userText = lastUserText(path, body);
    const d = parseDirectives(userText);
    let status = d.status;
    if (d.fail) {
      const seen = (attempts.get(d.fail.key) ?? 0) + 1;
      attempts.set(d.fail.key, seen);
      if (seen <= d.fail.n) status = d.fail.code;
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
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
