import { AppError, databaseHttpStatus, isDatabaseUnavailable, sqlStateOf } from './errors';

/** What Retry-After says during a database outage. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Neon's SQL-over-HTTP limit on a request's JSON and on a response, bytes (10 MiB). */
export const DATABASE_MESSAGE_LIMIT_BYTES = 10 * 1024 * 1024;

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
