import type { BatchItem } from 'drizzle-orm/batch';
import type { Db } from '../client';

type Statements = Record<string, BatchItem<'pg'> | undefined>;

/** Each statement's result under its own name; an absent (undefined) statement gives undefined. */
export type NamedResults<T extends Statements> = {
  [K in keyof T]: T[K] extends BatchItem<'pg'> ? T[K]['_']['result'] : NonNullable<T[K]>['_']['result'] | undefined;
};

/**
 * Runs named statements as one transaction in one round trip (a Neon HTTP batch), in the order
 * they are written, and returns each result by name: a statement that is left out (undefined)
 * cannot shift the others' results, as positions in an array would.
 */
export async function batchNamed<T extends Statements>(db: Db, statements: T): Promise<NamedResults<T>> {
  const names = Object.keys(statements).filter((name) => statements[name] !== undefined);
  const [first, ...rest] = names.map((name) => statements[name] as BatchItem<'pg'>);
  if (!first) return {} as NamedResults<T>;
  const results: unknown[] = await db.batch([first, ...rest]);
  return Object.fromEntries(names.map((name, i) => [name, results[i]])) as NamedResults<T>;
}
