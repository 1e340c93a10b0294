/**
 * Time to first byte of a streamed reply, measured by a client on loopback. For each turn: from
 * just before the request is written (on a kept-alive connection, so no connect time) to the
 * arrival of the network chunk holding the first byte of the first SSE event that carries reply
 * text — `data: {"type":"delta",…}` from chat.streamMessage, `data: {"type":"response.output_text.delta",…}`
 * from the floor Worker, which passes the model server's stream through. Turns are read to the end
 * (so they never overlap) and the API and the floor take turns, so both see the same conditions.
 */
import { Agent, request } from 'node:http';
import { percentile, round } from './stats.ts';

type Turn = { ttfbMs: number; totalMs: number };

function streamOnce(agent: Agent, url: URL, headers: Record<string, string>, marker: string): Promise<Turn> {
  return new Promise((resolve, reject) => {
    const chunks: { at: number; end: number }[] = [];
    let body = '';
    let firstEventAt: number | undefined;
    let started = 0;
    const req = request(url, { agent, headers: { ...headers, accept: 'text/event-stream' } });
    const timer = setTimeout(() => req.destroy(new Error('turn timed out after 15 s')), 15_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        res.resume();
        reject(new Error(`HTTP ${res.statusCode} from ${url.pathname}`));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = performance.now();
        body += chunk;
        chunks.push({ at, end: body.length });
        if (firstEventAt === undefined) {
          const hit = body.indexOf(marker);
          if (hit >= 0) {
            const eventStart = body.lastIndexOf('data:', hit);
            firstEventAt = chunks.find((c) => c.end > eventStart)?.at ?? at;
          }
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        const end = performance.now();
        if (firstEventAt === undefined) reject(new Error(`no "${marker}" in the stream: ${body.slice(0, 300)}`));
        else resolve({ ttfbMs: firstEventAt - started, totalMs: end - started });
      });
    });
    started = performance.now();
    req.end();
  });
}

export type TtfbSummary = {
  turns: number;
  p50: number;
  p99: number;
  mean: number;
  totalP50: number;
};

function summarize(turns: Turn[]): TtfbSummary {
  const t = turns.map((x) => x.ttfbMs);
  return {
    turns: turns.length,
    p50: round(percentile(t, 50)),
    p99: round(percentile(t, 99)),
    mean: round(t.reduce((a, b) => a + b, 0) / t.length),
    totalP50: round(
      percentile(
        turns.map((x) => x.totalMs),
        50,
      ),
    ),
  };
}

export async function measureTtfb(options: {
  apiBase: string;
  floorBase: string;
  /** Headers for turn i (the API keys take turns: the rate limit counts per key). */
  headersFor: (turn: number) => Record<string, string>;
  sessionIds: string[];
  turns: number;
  warmup: number;
}): Promise<{ api: TtfbSummary; floor: TtfbSummary }> {
  const apiAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const floorAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const api: Turn[] = [];
  const floor: Turn[] = [];
  try {
    for (let i = 0; i < options.warmup + options.turns; i++) {
      const sessionId = options.sessionIds[i % options.sessionIds.length];
      const content = `Turn ${i}: what is the status of my order?`;
      const input = encodeURIComponent(JSON.stringify({ chatSessionId: sessionId, content }));
      const a = await streamOnce(
        apiAgent,
        new URL(`${options.apiBase}/api/trpc/chat.streamMessage?input=${input}`),
        options.headersFor(i),
        '"type":"delta"',
      );
      const f = await streamOnce(
        floorAgent,
        new URL(`${options.floorBase}/stream?q=${encodeURIComponent(content)}`),
        {},
        '"type":"response.output_text.delta"',
      );
      if (i >= options.warmup) {
        api.push(a);
        floor.push(f);
      }
    }
  } finally {
    apiAgent.destroy();
    floorAgent.destroy();
  }
  return { api: summarize(api), floor: summarize(floor) };
}
