/**
 * Stop latency: a reply streams with 200 ms between chunks; at its first delta another connection
 * calls chat.stopReply. Measured from sending the stop to (a) its answer (the reply stored
 * STOPPED) and (b) the end of the original stream. Without a working stop, (b) would be the rest of
 * the reply (seconds).
 */
import type { FakeModelHandle } from '../../test/node/fake-openai.ts';
import { authHeaders, type Tenant, trpcMutation } from './api.ts';
import { percentile, round } from './stats.ts';

export type StopSummary = {
  runs: number;
  answerP50: number;
  answerMax: number;
  streamEndP50: number;
  streamEndMax: number;
};

async function once(base: string, headers: Record<string, string>, sessionId: string) {
  const input = { chatSessionId: sessionId, content: 'Stop me.' };
  const res = await fetch(`${base}/api/trpc/chat.streamMessage?input=${encodeURIComponent(JSON.stringify(input))}`, {
    headers: { ...headers, accept: 'text/event-stream' },
  });
  if (!res.ok || !res.body) throw new Error(`stream failed: ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  let stopAt = 0;
  let answered: Promise<number> | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
    const replyId = /"type":"delta","replyId":"(msg_[0-9A-Z]+)"/.exec(text)?.[1];
    if (replyId && !answered) {
      stopAt = performance.now();
      answered = trpcMutation(base, headers, 'chat.stopReply', { messageId: replyId }).then((reply) => {
        if (reply.status !== 'STOPPED') throw new Error(`stop answered ${reply.status}`);
        return performance.now() - stopAt;
      });
    }
  }
  const streamEnd = performance.now() - stopAt;
  if (!answered || !text.includes('"status":"STOPPED"')) throw new Error(`no STOPPED reply: ${text.slice(-300)}`);
  return { answer: await answered, streamEnd };
}

/** `model` is the fake model of the tenant's persona: it answers with 200 ms between chunks meanwhile. */
export async function measureStop(
  base: string,
  tenant: Tenant,
  sessionId: string,
  model: FakeModelHandle,
  runs = 10,
): Promise<StopSummary> {
  const headers = authHeaders(tenant, tenant.apiKey);
  model.configure({ delayMs: 200 });
  const answers: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once(base, headers, sessionId);
    answers.push(r.answer);
    ends.push(r.streamEnd);
  }
  model.configure({});
  return {
    runs,
    answerP50: round(percentile(answers, 50), 1),
    answerMax: round(Math.max(...answers), 1),
    streamEndP50: round(percentile(ends, 50), 1),
    streamEndMax: round(Math.max(...ends), 1),
  };
}
