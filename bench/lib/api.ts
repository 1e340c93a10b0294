/** Minimal clients for the API under test: the operator API, tRPC queries and mutations. */
export type Tenant = { organizationId: string; apiKey: string; personaId: string; keys: string[] };

/** At least 32 characters, as the Worker requires of ADMIN_TOKEN. */
export const ADMIN_TOKEN = 'adm_bench_local_only_0123456789abcdef';

export function authHeaders(tenant: { organizationId: string }, apiKey: string): Record<string, string> {
  return { 'x-api-key': apiKey, 'x-organization-id': tenant.organizationId };
}

async function json(res: Response, what: string): Promise<any> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

export async function trpcQuery(base: string, headers: Record<string, string>, name: string, input: unknown) {
  const url = `${base}/api/trpc/${name}?input=${encodeURIComponent(JSON.stringify(input))}`;
  return (await json(await fetch(url, { headers }), name)).result.data;
}

export async function trpcMutation(base: string, headers: Record<string, string>, name: string, input: unknown) {
  const res = await fetch(`${base}/api/trpc/${name}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  return (await json(res, name)).result.data;
}

/** An organization through the operator API (with its first key) and a persona through the API. */
export async function createTenant(base: string, name: string, persona: { greeting?: string; model?: string } = {}) {
  const res = await fetch(`${base}/admin/v1/organizations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const created = await json(res, 'admin create organization');
  const organizationId = created.organization.id as string;
  const apiKey = created.apiKey.key as string;
  const made = await trpcMutation(base, authHeaders({ organizationId }, apiKey), 'persona.create', {
    name: 'Support Agent',
    description: 'A benchmark persona.',
    instructions: 'You are a friendly, concise customer support agent. Answer in at most three sentences.',
    ...(persona.greeting ? { greeting: persona.greeting } : {}),
    ...(persona.model ? { model: persona.model } : {}),
  });
  return { organizationId, apiKey, personaId: made.id as string, keys: [apiKey] } satisfies Tenant;
}
