import { initTRPC } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';
import { authenticateRequest } from '../auth/authenticate';
import { PUBLISHABLE_KEY_PREFIX } from '../auth/keys';
import { authenticatePublishable, authorizeVisitor } from '../auth/publishable';
import { AppError, appCodeFromTrpc } from '../errors';
import { mapKnownError } from '../errors-map';
import { describeIssues } from '../validation';
import type { Context } from './context';
import { wireFormat } from './wire';

const t = initTRPC.context<Context>().create({
  transformer: wireFormat,
  // Pings keep idle SSE connections open through proxies while a slow model thinks.
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 } },
  // A person must be able to act on every message; stacks and internals never leave the Worker.
  // Errors raised while a subscription streams never pass through middleware: they are mapped here
  // too, so a stream that loses the database ends with the same 503 + retryAfter as a query would.
  errorFormatter({ shape, error }) {
    const known = error instanceof AppError ? error : mapKnownError(error.cause);
    const appCode = known ? known.appCode : appCodeFromTrpc(error.code);
    let message = known ? known.message : shape.message;
    if (error.cause instanceof ZodError) {
      message = describeIssues(error.cause);
    } else if (appCode === 'INTERNAL') {
      message = 'Internal server error. It has been logged; please retry later.';
    }
    const code = known ? TRPC_ERROR_CODES_BY_KEY[known.code] : shape.code;
    return {
      message,
      code,
      data: {
        code: known ? known.code : shape.data.code,
        httpStatus: known ? known.status : shape.data.httpStatus,
        path: shape.data.path,
        appCode,
        // Seconds to wait before retrying (429, 503); what Retry-After says where headers can.
        ...(known?.retryAfter !== undefined ? { retryAfter: known.retryAfter } : {}),
      },
    };
  },
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
