import type { z } from 'zod';
import type { Db } from '../db/client';
import { getOrganization } from '../db/queries/organizations';
import { AppError } from '../errors';
import { describeIssues } from '../validation';

/** The operator API's JSON body, validated; 400 naming what is wrong. */
export async function parseBody<T extends z.ZodType>(req: Request, schema: T): Promise<z.infer<T>> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    throw new AppError('BAD_REQUEST', 'Body must be JSON.');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AppError('BAD_REQUEST', describeIssues(parsed.error));
  return parsed.data;
}

/** The organization a path names, or 404. */
export async function requireOrganization(db: Db, id: string) {
  const org = await getOrganization(db, id);
  if (!org) throw new AppError('NOT_FOUND', `Organization ${id} not found.`);
  return org;
}
