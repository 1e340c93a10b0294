import { trpcServer } from '@hono/trpc-server';
import type { Context as HonoContext, MiddlewareHandler } from 'hono';
import type { Context } from '../context';
import { AppError, logFailure, requestIdOf, toAppError } from '../errors';
import type { HonoEnv } from '../hono-env';
import { appRouter } from './router';

/**
 * The tRPC API as Hono middleware, for /api/trpc (src/app.ts) and the widget's /widget/v1/<key>/trpc
 * (src/routes/widget.ts): one place that sets Retry-After, logs faults with the request id and makes
 * sure every error body names that id.
 */
export function mountTrpc(
  endpoint: (c: HonoContext<HonoEnv>) => string,
  createContext: (c: HonoContext<HonoEnv>) => Context,
): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const requestId = requestIdOf(c) ?? 'none';
    const handler = trpcServer({
      endpoint: endpoint(c),
      router: appRouter,
      // Lets subscriptions be called with POST too, so a streamed send can carry attachments.
      allowMethodOverride: true,
      createContext: () => createContext(c),
      // 429 and 503 tell the client when to come back.
      responseMeta: ({ errors }) => {
        const retryAfter = errors.find((e): e is AppError => e instanceof AppError && e.retryAfter !== undefined);
        return retryAfter ? { headers: new Headers({ 'retry-after': String(retryAfter.retryAfter) }) } : {};
      },
      // Faults, outages and settings to fix are logged as on every other path (src/errors/respond.ts).
      onError: ({ error, path }) => {
        const known =
          error instanceof AppError
            ? error
            : error.code === 'INTERNAL_SERVER_ERROR'
              ? toAppError(error.cause ?? error)
              : undefined;
        if (known) logFailure({ requestId, env: c.env }, `tRPC ${path ?? '?'}`, known, error.cause ?? error);
      },
    });
    const response = await handler(c, next);
    return response instanceof Response ? withRequestId(response, requestId) : response;
  };
}

/**
 * tRPC's error formatter adds the request id from the context; errors raised before the context
 * exists (an unparseable `input`) get it here. Only small JSON error bodies are read.
 */
async function withRequestId(response: Response, requestId: string): Promise<Response> {
  if (response.ok || !response.headers.get('content-type')?.includes('application/json')) return response;
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, response);
  }
  const items = Array.isArray(body) ? body : [body];
  for (const item of items) {
    const data = (item as { error?: { data?: Record<string, unknown> } } | null)?.error?.data;
    if (data && data.requestId === undefined) data.requestId = requestId;
  }
  return new Response(JSON.stringify(body), response);
}
