import { env } from 'cloudflare:workers';
import { data, mutate, type Tenant } from './api';

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

export type ModelRequest = { path: string; body: any; at: number };

/** Requests the local OpenAI-protocol server received whose body mentions `marker`. */
export async function modelRequests(marker: string): Promise<ModelRequest[]> {
  const base = env.OPENAI_BASE_URL?.replace(/\/v1$/, '') ?? '';
  const res = await fetch(`${base}/__requests`);
  const all = (await res.json()) as ModelRequest[];
  return all.filter((r) => JSON.stringify(r.body).includes(marker));
}

/** A marker unique to one test, to find its model requests among parallel tests'. */
export function marker(label = 'm'): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}`;
}
