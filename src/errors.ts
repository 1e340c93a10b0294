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

/**
 * The HTTP status of a failed SQL-over-HTTP request, as the Neon driver reports it for anything but
 * 400 ("Server error (HTTP status 507): …"). Only the driver's own errors are read: a wrapper's message
 * (drizzle's "Failed query: … params: …") quotes user text, which must not be able to pose as a status.
 */
export function databaseHttpStatus(error: unknown): number | undefined {
  for (const current of driverErrors(error)) {
    const match = /^Server error \(HTTP status (\d{3})\)/.exec(current.message);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/**
 * SQLSTATEs that mean the database cannot serve anyone right now, not that a query was wrong:
 * connection exceptions (08), shutdown/recovery (57P01–57P03), too many connections (53300),
 * authentication failed (28: a rotated password), the database gone (3D000).
 */
const UNAVAILABLE_STATES = /^(08...|57P0[1-3]|53300|28...|3D000)$/;

/** True for failures to reach the database at all (as opposed to a query it rejected). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const current of driverErrors(error)) {
    // fetch failed: refused connection, DNS, reset, timeout.
    if (current.message.startsWith('Error connecting to database')) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_STATES.test(code)) return true;
    // Neon's non-SQL refusals (400, empty code): endpoint disabled or suspended, compute unreachable,
    // credentials refused. Request-shape errors (bad JSON) stay internal faults, not outages.
    if (code === '' && /endpoint|compute|connect|password|authenticat|quota|suspend/i.test(current.message)) {
      return true;
    }
  }
  const status = databaseHttpStatus(error);
  // 507 (result too large) is the one 5xx that retrying can never fix.
  return status !== undefined && status >= 500 && status !== 507;
}

/** The driver-level errors in a cause chain: everything but drizzle's query wrapper, which quotes params. */
function* driverErrors(error: unknown): Generator<Error> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (!('params' in current)) yield current;
    current = current.cause;
  }
}

/** The Postgres SQLSTATE of a driver error, looking through wrappers (drizzle wraps driver errors). */
export function sqlStateOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}
