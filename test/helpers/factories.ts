import { data, mutate, type Tenant } from './api';
import { modelServerUrl } from './fake-model';

export async function createPersona(tenant: Tenant, fields: Record<string, unknown> = {}) {
  return data<{ id: string; name: string; version: number }>(
    await mutate(
      'persona.create',
      { name: 'Support Agent', instructions: 'You are a helpful support agent.', ...fields },
      { tenant },
    ),
  );
}

export async function createSession(tenant: Tenant, personaId: string, fields: Record<string, unknown> = {}) {
  return data<{ id: string; _count: { messages: number } }>(
    await mutate('chat.createSession', { personaId, ...fields }, { tenant }),
  );
}

/** A tenant with a persona and an empty session. */
export async function conversation(tenant: Tenant, personaFields: Record<string, unknown> = {}) {
  const persona = await createPersona(tenant, personaFields);
  const session = await createSession(tenant, persona.id);
  return { persona, session };
}

/** One item of a recorded prompt: Responses API `input` or Chat Completions `messages`. */
export type PromptItem = { role: string; content: unknown };

/** A request body as @ai-sdk/openai sends it, with the fields tests read. */
export type ModelRequestBody = {
  model?: string;
  instructions?: string;
  input?: PromptItem[];
  messages?: PromptItem[];
  [field: string]: unknown;
};

export type ModelRequest = { path: string; body: ModelRequestBody; at: number };

/** Every request the local OpenAI-protocol server received (from every test file), in order. */
export async function allModelRequests(): Promise<ModelRequest[]> {
  const res = await fetch(`${modelServerUrl()}/__requests`);
  if (!res.ok) throw new Error(`model server requests: HTTP ${res.status}`);
  return (await res.json()) as ModelRequest[];
}

/** Requests the local OpenAI-protocol server received whose body mentions `marker`. */
export async function modelRequests(marker: string): Promise<ModelRequest[]> {
  return (await allModelRequests()).filter((r) => JSON.stringify(r.body).includes(marker));
}

/** A marker unique to one test, to find its model requests among parallel tests'. */
export function marker(label = 'm'): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}`;
}
