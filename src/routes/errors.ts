// Moved to src/errors/respond.ts; kept for src/routes/playground.ts (removed when the last reader moves).
export { errorResponse } from '../errors';
