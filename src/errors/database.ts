/**
 * Failures below the API (the database driver, Neon's HTTP endpoint, Postgres) recognised and turned
 * into AppErrors, in one place. Anything not recognised stays an internal fault (logged, answered 500).
 */
import { AppError } from './app-error';

/** What Retry-After says during a database outage. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Neon's SQL-over-HTTP limit on a request's JSON and on a response, bytes (10 MiB). */
export const DATABASE_MESSAGE_LIMIT_BYTES = 10 * 1024 * 1024;

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

/**
 * Known failures below the API turned into AppErrors, in one place. Anything not listed stays an
 * internal error (logged with its cause, answered 500).
 */
export function mapKnownError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError(
      'DATABASE_UNAVAILABLE',
      `The database is unavailable. Please retry in ${DATABASE_RETRY_AFTER_SECONDS} s.`,
      {
        cause: error,
        retryAfter: DATABASE_RETRY_AFTER_SECONDS,
      },
    );
  }
  const status = databaseHttpStatus(error);
  if (status === 507) {
    return new AppError(
      'RESULT_TOO_LARGE',
      'The result is larger than the database returns in one response (10 MiB), so this request cannot succeed as asked. Ask for less: a smaller page (chat.listMessages with a lower limit) instead of the whole session.',
      { cause: error },
    );
  }
  if (status === 413) {
    return new AppError(
      'PAYLOAD_TOO_LARGE',
      'This request would write more than the database accepts in one statement (10 MiB). Send less text or fewer attachments.',
      { cause: error },
    );
  }
  if (isNeonUnicodeRefusal(error)) {
    return new AppError('BAD_REQUEST', 'Text must not contain NUL characters or invalid Unicode.', { cause: error });
  }
  switch (sqlStateOf(error)) {
    case '22P05': // untranslatable character (e.g. \u0000 in text)
    case '22021': // invalid byte sequence for encoding
      return new AppError('BAD_REQUEST', 'Text must not contain NUL characters or invalid Unicode.', {
        cause: error,
      });
    case '22003': // numeric value out of range
      return new AppError('BAD_REQUEST', 'A number in the input is out of range.', { cause: error });
    default:
      return undefined;
  }
}

/** Neon refuses request JSON with an unpaired surrogate before any SQL runs: 400 with an empty code. */
function isNeonUnicodeRefusal(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === '' && !('params' in current) && /surrogate|unicode|utf-?8/i.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}
