/**
 * A webhook receiver for the tests: a local HTTP server that records every delivery it gets, per
 * token in the path (`/hook/<token>`), and answers as the URL's query says: `?fail=N` answers the
 * first N deliveries with 500, then 204. Tests read what arrived with `GET /received/<token>`.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { ReceivedDelivery } from '../helpers/webhook-receiver.ts';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebhookReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const received = new Map<string, ReceivedDelivery[]>();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    const [, kind, token] = url.pathname.split('/');
    if (req.method === 'GET' && kind === 'received' && token) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(received.get(token) ?? []));
      return;
    }
    if (req.method !== 'POST' || kind !== 'hook' || !token) {
      res.writeHead(404).end();
      return;
    }
    const body = await readBody(req);
    const list = received.get(token) ?? [];
    const answered = list.length < Number(url.searchParams.get('fail') ?? 0) ? 500 : 204;
    list.push({
      id: req.headers['webhook-id']?.toString() ?? null,
      timestamp: req.headers['webhook-timestamp']?.toString() ?? null,
      signature: req.headers['webhook-signature']?.toString() ?? null,
      contentType: req.headers['content-type'] ?? null,
      body,
      answered,
    });
    received.set(token, list);
    res.writeHead(answered).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
