import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

/**
 * The closed set of errors the API answers with. Each maps once to an HTTP status and a tRPC code;
 * everything else is an internal fault, logged with its cause and answered with a generic 500.
 */
const table = {
  BAD_REQUEST: { status: 400, trpc: 'BAD_REQUEST' },
  UNAUTHORIZED: { status: 401, trpc: 'UNAUTHORIZED' },
  FORBIDDEN: { status: 403, trpc: 'FORBIDDEN' },
  NOT_FOUND: { status: 404, trpc: 'NOT_FOUND' },
  CONFLICT: { status: 409, trpc: 'CONFLICT' },
  PRECONDITION_FAILED: { status: 412, trpc: 'PRECONDITION_FAILED' },
  PAYLOAD_TOO_LARGE: { status: 413, trpc: 'PAYLOAD_TOO_LARGE' },
  /**
   * A result larger than the database returns in one response (Neon answers 507 above 10 MiB). A 4xx,
   * not a 5xx: the same request can never succeed, so nothing (clients, SDKs, proxies) may retry it;
   * the remedy is asking for less (a smaller page). Listed after PAYLOAD_TOO_LARGE so that tRPC's own
   * PAYLOAD_TOO_LARGE still maps back to that code.
   */
  RESULT_TOO_LARGE: { status: 413, trpc: 'PAYLOAD_TOO_LARGE' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, trpc: 'UNSUPPORTED_MEDIA_TYPE' },
  UNPROCESSABLE: { status: 422, trpc: 'UNPROCESSABLE_CONTENT' },
  RATE_LIMITED: { status: 429, trpc: 'TOO_MANY_REQUESTS' },
  INTERNAL: { status: 500, trpc: 'INTERNAL_SERVER_ERROR' },
  MODEL_ERROR: { status: 502, trpc: 'BAD_GATEWAY' },
  DATABASE_UNAVAILABLE: { status: 503, trpc: 'SERVICE_UNAVAILABLE' },
  /** A setting the operator must fix (no model provider, an ADMIN_TOKEN too short): retrying cannot help. */
  NOT_CONFIGURED: { status: 503, trpc: 'SERVICE_UNAVAILABLE' },
  MODEL_TIMEOUT: { status: 504, trpc: 'GATEWAY_TIMEOUT' },
} as const satisfies Record<string, { status: number; trpc: TRPC_ERROR_CODE_KEY }>;

export type AppErrorCode = keyof typeof table;

/** The one text of an internal fault: its cause is logged (with the request id), never sent. */
export const INTERNAL_MESSAGE = 'Internal server error. It has been logged; please retry later.';

export class AppError extends TRPCError {
  readonly appCode: AppErrorCode;
  readonly status: number;
  /** Seconds a client should wait before retrying (429, 503). */
  readonly retryAfter: number | undefined;

  constructor(appCode: AppErrorCode, message: string, options: { cause?: unknown; retryAfter?: number } = {}) {
    super({ code: table[appCode].trpc, message, cause: options.cause });
    this.name = 'AppError';
    this.appCode = appCode;
    this.status = table[appCode].status;
    this.retryAfter = options.retryAfter;
  }
}

export function httpStatusOf(code: AppErrorCode): number {
  return table[code].status;
}

/** The tRPC code → app code inverse, for errors tRPC raises itself (parse errors, unknown paths). */
export function appCodeFromTrpc(code: TRPC_ERROR_CODE_KEY): AppErrorCode {
  for (const [app, entry] of Object.entries(table)) {
    if (entry.trpc === code) return app as AppErrorCode;
  }
  if (code === 'PARSE_ERROR' || code === 'METHOD_NOT_SUPPORTED') return 'BAD_REQUEST';
  return 'INTERNAL';
}
