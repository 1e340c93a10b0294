import type { TRPCDefaultErrorShape, TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { Context as HonoContext } from 'hono';
import { ZodError } from 'zod';
import { type LogScope, log } from '../log';
import { describeIssues } from '../validation';
import { AppError, type AppErrorCode, appCodeFromTrpc, INTERNAL_MESSAGE } from './app-error';
import { mapKnownError } from './database';

/**
 * How a failure leaves the Worker, for every transport: the AppError a client sees, the log line a
 * fault writes, and the bodies (tRPC's shape, OpenAI's shape). Every body names the request id that
 * is also in the X-Request-Id header and the log line, so a report can be matched to its log.
 */

/** Any thrown value as the client sees it: known failures mapped, anything else the generic 500. */
export function toAppError(error: unknown): AppError {
  return mapKnownError(error) ?? new AppError('INTERNAL', INTERNAL_MESSAGE, { cause: error });
}

/** What the operator must see: faults of the server, outages, settings to fix. Refusals are not logged. */
const LOGGED: ReadonlySet<AppErrorCode> = new Set(['INTERNAL', 'DATABASE_UNAVAILABLE', 'NOT_CONFIGURED']);

/** A failure the operator must see is logged with its cause and the request id. */
export function logFailure(scope: LogScope, where: string, appError: AppError, error: unknown): void {
  if (!LOGGED.has(appError.appCode)) return;
  log('error', scope, 'request.failed', { where, appCode: appError.appCode }, error);
}

/** What the client reads: an internal fault never shows its own message. */
function publicMessage(appError: AppError): string {
  return appError.appCode === 'INTERNAL' ? INTERNAL_MESSAGE : appError.message;
}

/** `error.data` of tRPC's error shape, for answers within tRPC and outside it alike. */
function errorData(appError: AppError, requestId: string | undefined) {
  return {
    code: appError.code,
    httpStatus: appError.status,
    appCode: appError.appCode,
    // Seconds to wait before retrying (429, 503); what Retry-After says where headers can.
    ...(appError.retryAfter !== undefined ? { retryAfter: appError.retryAfter } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
  };
}

/** tRPC's error shape, for errors answered outside tRPC (body limits, admin, widget, unknown routes). */
export function errorBody(appError: AppError, requestId: string | undefined) {
  return {
    error: {
      message: publicMessage(appError),
      code: TRPC_ERROR_CODES_BY_KEY[appError.code],
      data: errorData(appError, requestId),
    },
  };
}

/**
 * The error formatter of tRPC (src/trpc/init.ts): the same codes, messages and request id as errorBody.
 * Errors raised while a subscription streams never pass through middleware, so they are mapped here
 * too: a stream that loses the database ends with the same 503 + retryAfter as a query would.
 * `requestId` is undefined when tRPC failed before creating the context (unparseable input).
 */
export function trpcErrorShape(shape: TRPCDefaultErrorShape, error: TRPCError, requestId: string | undefined) {
  const known = error instanceof AppError ? error : mapKnownError(error.cause);
  const appCode = known ? known.appCode : appCodeFromTrpc(error.code);
  let message = known ? known.message : shape.message;
  if (error.cause instanceof ZodError) message = describeIssues(error.cause);
  else if (appCode === 'INTERNAL') message = INTERNAL_MESSAGE;
  return {
    message,
    code: known ? TRPC_ERROR_CODES_BY_KEY[known.code] : shape.code,
    data: {
      code: known ? known.code : shape.data.code,
      httpStatus: known ? known.status : shape.data.httpStatus,
      path: shape.data.path,
      appCode,
      ...(known?.retryAfter !== undefined ? { retryAfter: known.retryAfter } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
    },
  };
}

/** OpenAI's error body, which its SDKs parse: `{error:{message,type,code,param,request_id}}`. */
export function openAiErrorBody(appError: AppError, requestId: string | undefined) {
  const status = appError.status;
  const type =
    status === 401
      ? 'authentication_error'
      : status === 403
        ? 'permission_error'
        : status === 429
          ? 'rate_limit_error'
          : status >= 500
            ? 'server_error'
            : 'invalid_request_error';
  const code =
    appError.appCode === 'NOT_FOUND' && appError.message.startsWith('The model')
      ? 'model_not_found'
      : status === 401
        ? 'invalid_api_key'
        : appError.appCode.toLowerCase();
  return {
    error: {
      message: publicMessage(appError),
      type,
      code,
      param: null,
      ...(requestId !== undefined ? { request_id: requestId } : {}),
    },
  };
}

/** The request id Hono's requestId middleware gave this request (src/app.ts runs it first). */
export function requestIdOf(c: HonoContext): string | undefined {
  const id: unknown = c.get('requestId');
  return typeof id === 'string' ? id : undefined;
}

/**
 * A failure answered by a Hono route: mapped, logged when it is a fault, with Retry-After where it
 * applies, in tRPC's shape (or another, e.g. OpenAI's for /v1).
 */
export function errorResponse(
  c: HonoContext,
  error: unknown,
  body: (appError: AppError, requestId: string | undefined) => object = errorBody,
): Response {
  const appError = toAppError(error);
  const requestId = requestIdOf(c);
  logFailure(
    { requestId: requestId ?? 'none', env: c.env },
    `${c.req.method} ${new URL(c.req.url).pathname}`,
    appError,
    error,
  );
  const headers: Record<string, string> = {};
  if (appError.retryAfter !== undefined) headers['retry-after'] = String(appError.retryAfter);
  return c.json(body(appError, requestId), appError.status as 400, headers);
}
