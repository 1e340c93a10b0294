import { initTRPC } from '@trpc/server';
import { authenticateRequest } from '../auth/authenticate';
import { PUBLISHABLE_KEY_PREFIX } from '../auth/keys';
import { authenticatePublishable, authorizeVisitor } from '../auth/publishable';
import type { Context } from '../context';
import { AppError, mapKnownError, trpcErrorShape } from '../errors';
import { wireFormat } from './wire';

const t = initTRPC.context<Context>().create({
  transformer: wireFormat,
  // Pings keep idle SSE connections open through proxies while a slow model thinks.
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 } },
  // A person must be able to act on every message; stacks and internals never leave the Worker. The
  // context is missing when tRPC failed before creating it (unparseable input): app.ts adds the id then.
  errorFormatter: ({ shape, error, ctx }) => trpcErrorShape(shape, error, ctx?.requestId),
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Turns driver and database failures we understand into AppErrors (503, 400, 409). */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && !(result.error instanceof AppError)) {
    const mapped = mapKnownError(result.error.cause ?? result.error);
    if (mapped) throw mapped;
  }
  return result;
});

export const publicProcedure = t.procedure.use(mapErrors);

/**
 * Requires X-API-Key + X-Organization-ID (a secret key), or, under /widget/v1/<key>/trpc, a publishable
 * key plus what a visitor may do (src/auth/publishable.ts); `ctx.auth` is then always set.
 */
export const authedProcedure = publicProcedure.use(async ({ ctx, next, path, getRawInput }) => {
  if (ctx.widget !== undefined) {
    const publishable = await authenticatePublishable({ ...ctx, widget: ctx.widget });
    const visitor = await authorizeVisitor(ctx, publishable, path, await getRawInput());
    const auth = { organizationId: publishable.organizationId, apiKeyId: publishable.apiKeyId };
    return next({ ctx: { ...ctx, auth, publishable, visitor } });
  }
  if (ctx.headers.get('x-api-key')?.trim().startsWith(PUBLISHABLE_KEY_PREFIX)) {
    throw new AppError('FORBIDDEN', 'A publishable key works only through the widget endpoint, /widget/v1/<key>/trpc.');
  }
  const auth = await authenticateRequest(ctx);
  return next({ ctx: { ...ctx, auth } });
});
