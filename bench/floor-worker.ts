/**
 * The bench's floor: a bare Hono Worker on the same runtime (`wrangler dev`), with no database,
 * no auth and no tRPC. GET /json answers a constant JSON (the load floor); GET /stream proxies one
 * streamed reply from the same local model server the API uses (the time-to-first-byte floor).
 */
import { Hono } from 'hono';

type Bindings = { MODEL_URL: string };

const app = new Hono<{ Bindings: Bindings }>();

app.get('/health', (c) => c.json({ status: 'ok' }));

app.get('/json', (c) => c.json({ id: 'session_01JBENCHFLOOR0000000000000', title: 'floor', messageCount: 0 }));

app.get('/stream', async (c) => {
  const upstream = await fetch(`${c.env.MODEL_URL}/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer floor' },
    body: JSON.stringify({
      model: 'floor',
      stream: true,
      input: [{ role: 'user', content: c.req.query('q') ?? 'hello' }],
    }),
  });
  return new Response(upstream.body, {
    status: upstream.status,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  });
});

export default app;
