import { appRouter } from '../../src/trpc/router';

export type ProcedureKind = 'query' | 'mutation' | 'subscription';

/**
 * Every procedure of the router by its dotted name, with its kind: what the matrix tests walk.
 * (The router's record types its entries loosely; each has `_def.type` at run time.)
 */
export const procedureKinds: Record<string, ProcedureKind> = Object.fromEntries(
  Object.entries(appRouter._def.procedures).map(([path, procedure]) => [
    path,
    (procedure as unknown as { _def: { type: ProcedureKind } })._def.type,
  ]),
);
