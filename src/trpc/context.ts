// Moved to src/context.ts (the base of the request layer); kept while imports move.
export type { AuthedContext, Context } from '../context';
