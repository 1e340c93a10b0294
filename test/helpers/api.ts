import { env } from 'cloudflare:workers';
import type { inferRouterOutputs } from '@trpc/server';
import type { Env } from '../../src/env';
import type { AppRouter } from '../../src/trpc/router';
import { BASE, fetchWithEnv, worker } from './worker';

/** Credentials of one test organization. */
export type Tenant = { organizationId: string; apiKey: string; apiKeyId: string };

export type ApiResponse<T = unknown> = { status: number; body: T; headers: Headers };

type Outputs = inferRouterOutputs<AppRouter>;
/** What the procedure named `P` (e.g. 'chat.getSession') answers; unknown for a name the router lacks. */
export type OutputOf<P extends string> = P extends `${infer R extends keyof Outputs & string}.${infer Q}`
  ? Q extends keyof Outputs[R]
    ? Outputs[R][Q]
    : unknown
  : unknown;

/** A tRPC error as the app's errorFormatter shapes it (src/trpc/init.ts). */
export type TrpcError = {
  message: string;
  code: number;
  data: { code: string; httpStatus: number; path?: string; appCode: string; retryAfter?: number; requestId?: string };
  /** OpenAI-shaped errors (/v1) carry the request id here instead. */
  request_id?: string;
};

/** A REST answer's JSON: the fields a test reads, or the error when it failed. */
export type RestBody = { error?: TrpcError; [field: string]: unknown };

/** A tRPC HTTP answer: `result` on success, `error` otherwise. */
export type TrpcBody<O> = { result?: { data: O }; error?: TrpcError };

/**
 * A request to the Worker under test, through its real fetch handler in workerd. With `envOverrides`
 * the app is built in this isolate and given a modified env (limits, model style), the way a
 * deployment with other settings would run.
 */
export async function request<T = RestBody>(
  path: string,
  init: RequestInit = {},
  envOverrides?: Partial<Env>,
): Promise<ApiResponse<T>> {
  let res: Response;
  if (envOverrides) {
    const answer = await fetchWithEnv(new Request(BASE + path, init), envOverrides);
    await answer.done();
    res = answer.res;
  } else {
    res = await worker.fetch(new Request(BASE + path, init));
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

export function authHeaders(tenant: Tenant): Record<string, string> {
  return { 'x-api-key': tenant.apiKey, 'x-organization-id': tenant.organizationId };
}

export function admin<T = RestBody>(path: string, body?: unknown): Promise<ApiResponse<T>> {
  return request<T>(`/admin/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A fresh organization with one API key, made through the operator API. */
export async function createTenant(name = 'Test org'): Promise<Tenant> {
  const res = await admin<{ organization: { id: string }; apiKey: { id: string; key: string } }>('/organizations', {
    name,
  });
  if (res.status !== 201) throw new Error(`createTenant failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { organizationId: res.body.organization.id, apiKey: res.body.apiKey.key, apiKeyId: res.body.apiKey.id };
}

type TrpcOptions = {
  tenant?: Tenant | undefined;
  headers?: Record<string, string>;
  wrap?: boolean;
  env?: Partial<Env>;
};

/** A tRPC query as the contract's clients send it: GET with ?input=<JSON>. */
export function query<P extends string>(procedure: P, input?: unknown, options: TrpcOptions = {}) {
  const payload = options.wrap ? { json: input } : input;
  const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(payload))}`;
  return request<TrpcBody<OutputOf<P>>>(
    `/api/trpc/${procedure}${qs}`,
    { headers: { ...(options.tenant ? authHeaders(options.tenant) : {}), ...options.headers } },
    options.env,
  );
}

/** A tRPC mutation: POST with a JSON body, wrapped as {"json": ...} by default like the contract's examples. */
export function mutate<P extends string>(procedure: P, input: unknown, options: TrpcOptions = {}) {
  const payload = options.wrap === false ? input : { json: input };
  return request<TrpcBody<OutputOf<P>>>(
    `/api/trpc/${procedure}`,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.tenant ? authHeaders(options.tenant) : {}),
        ...options.headers,
      },
      body: JSON.stringify(payload),
    },
    options.env,
  );
}

/** The `result.data` of a successful tRPC call, or a thrown error showing what came back. */
export function data<O>(res: ApiResponse<TrpcBody<O>>): O {
  if (res.status !== 200 || !res.body.result) {
    throw new Error(`expected 200, got ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body.result.data;
}
