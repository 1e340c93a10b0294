import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { apiKeys } from '../schema';

/** Columns safe to return: never the hash. */
const publicColumns = {
  id: apiKeys.id,
  organizationId: apiKeys.organizationId,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

/** The one lookup not scoped by organization: finding which organization a presented key belongs to. */
export async function findApiKeyByHash(db: Db, hash: string) {
  const [row] = await db
    .select({ id: apiKeys.id, organizationId: apiKeys.organizationId, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .where(eq(apiKeys.hash, hash))
    .limit(1);
  return row;
}

export async function insertApiKey(
  db: Db,
  organizationId: string,
  values: { id: string; name: string; prefix: string; hash: string },
) {
  const [row] = await db
    .insert(apiKeys)
    .values({ ...values, organizationId })
    .returning(publicColumns);
  return row;
}

export function listApiKeys(db: Db, organizationId: string) {
  return db
    .select(publicColumns)
    .from(apiKeys)
    .where(eq(apiKeys.organizationId, organizationId))
    .orderBy(desc(apiKeys.createdAt));
}

export async function revokeApiKey(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(and(eq(apiKeys.organizationId, organizationId), eq(apiKeys.id, id)))
    .returning(publicColumns);
  return row;
}

/** Records use at most once a minute per key, so a busy key does not write on every request. */
export async function touchApiKey(db: Db, organizationId: string, id: string) {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiKeys.organizationId, organizationId),
        eq(apiKeys.id, id),
        or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`)),
      ),
    );
}
