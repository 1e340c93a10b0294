// Moved to src/errors/database.ts; kept for readers outside the core area (removed when the last reader moves).
export { DATABASE_MESSAGE_LIMIT_BYTES, DATABASE_RETRY_AFTER_SECONDS, mapKnownError } from './errors';
