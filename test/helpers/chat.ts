import type { inferRouterOutputs } from '@trpc/server';
import type { ContextReport } from '../../src/ai/prompt';
import type { Env } from '../../src/env';
import type { AppRouter } from '../../src/trpc/router';
import { authHeaders, data, mutate, query, type Tenant } from './api';
import type { SseData, SseEvent } from './sse';
import { BASE, worker } from './worker';

/** What each tRPC procedure answers, from the router's own types. */
export type Outputs = inferRouterOutputs<AppRouter>;
export type StoredSession = Outputs['chat']['getSession'];
export type StoredMessage = StoredSession['messages'][number];

/** A knowledge passage a reply used (metadata.knowledge.used, docs/api-contract.md). */
export type KnowledgeUsed = {
  sourceId?: string;
  attachmentId?: string;
  filename: string;
  pages: number[] | null;
  score: number;
};

/** A reply's metadata as tests read it: stored as JSON, so the router types it as a plain record. */
export type ReplyMetadata = {
  usage: { inputTokens: number | null; outputTokens: number | null; totalTokens: number | null };
  context: ContextReport;
  knowledge: {
    used: KnowledgeUsed[];
    error?: string;
    indexing?: { attachments: string[]; pending: string[]; waitedMs: number };
  };
};

/** The metadata of a reply (the shape send-message stores), typed for reading. */
export function metadataOf(message: { metadata: unknown }): ReplyMetadata {
  return message.metadata as ReplyMetadata;
}

/** A tRPC input in a query string, as the contract's clients send it. */
export const enc = (input: unknown) => encodeURIComponent(JSON.stringify(input));

/** A session as chat.getSession returns it (with its messages). */
export async function getSession(tenant: Tenant, id: string): Promise<StoredSession> {
  return data<StoredSession>(await query('chat.getSession', { id }, { tenant }));
}

/** The stored messages of a session, oldest first. */
export async function messagesOf(tenant: Tenant, sessionId: string): Promise<StoredMessage[]> {
  return (await getSession(tenant, sessionId)).messages;
}

/** chat.sendMessage with the given input (and headers, e.g. an Idempotency-Key). */
export function sendMessage(tenant: Tenant, input: Record<string, unknown>, headers: Record<string, string> = {}) {
  return mutate('chat.sendMessage', input, { tenant, headers });
}

/** chat.sendMessage of a USER message with attachments (none: a plain message), optionally with other settings. */
export function sendWithAttachments(
  tenant: Tenant,
  chatSessionId: string,
  content: string,
  attachments?: unknown[],
  envOverrides?: Partial<Env>,
) {
  return mutate(
    'chat.sendMessage',
    { chatSessionId, content, role: 'USER', ...(attachments ? { attachments } : {}) },
    { tenant, ...(envOverrides ? { env: envOverrides } : {}) },
  );
}

/** A tRPC subscription (SSE over GET) to the Worker under test. */
export function subscribe(tenant: Tenant, procedure: string, input: unknown) {
  return worker.fetch(`${BASE}/api/trpc/${procedure}?input=${enc(input)}`, { headers: authHeaders(tenant) });
}

/** The turn events (message, delta, reply) of a subscription's SSE events. */
export const turnEvents = (events: SseEvent[]): SseData[] => events.filter((e) => e.data?.type).map((e) => e.data);

/** Reads until `done` holds (every 50 ms, at most `attempts` times); the last value either way. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, attempts = 200): Promise<T> {
  let value = await read();
  for (let i = 0; i < attempts && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}
