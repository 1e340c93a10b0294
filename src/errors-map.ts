import { AppError, isDatabaseUnavailable, sqlStateOf } from './errors';

/**
 * Known failures below the API turned into AppErrors, in one place. Anything not listed stays an
 * internal error (logged with its cause, answered 500).
 */
export function mapKnownError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError('DATABASE_UNAVAILABLE', 'The database is unavailable. Please retry shortly.', {
      cause: error,
      retryAfter: 5,
    });
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
