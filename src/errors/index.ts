/**
 * The one error path (issue 15): the closed code table and AppError (app-error.ts), failures below
 * the API recognised (database.ts), and how a failure is answered and logged (respond.ts).
 */
export * from './app-error';
export * from './database';
export * from './respond';
