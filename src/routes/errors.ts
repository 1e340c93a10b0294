import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { Context } from 'hono';
import { AppError } from '../errors';
import { mapKnownError } from '../errors-map';
import { describeError, redact } from '../log';

/** Outside tRPC (body limit, admin, health): the same codes and messages, in the tRPC error shape. */
export function errorResponse(c: Context, error: unknown): Response {
  const appError =
    mapKnownError(error) ?? new AppError('INTERNAL', 'Internal server error. It has been logged; please retry later.');
  if (appError.appCode === 'INTERNAL' || appError.appCode === 'DATABASE_UNAVAILABLE') {
    console.error(redact(`${c.req.method} ${new URL(c.req.url).pathname} failed`, c.env), describeError(error, c.env));
  }
  const headers: Record<string, string> = {};
  if (appError.retryAfter !== undefined) headers['retry-after'] = String(appError.retryAfter);
  return c.json(
    {
      error: {
        message: appError.message,
        code: TRPC_ERROR_CODES_BY_KEY[appError.code],
        data: { code: appError.code, httpStatus: appError.status, appCode: appError.appCode },
      },
    },
    appError.status as 400,
    headers,
  );
}
