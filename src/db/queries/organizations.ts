import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { apiKeys, organizations } from '../schema';

const columns = {
  id: organizations.id,
  name: organizations.name,
  idleArchiveDays: organizations.idleArchiveDays,
  dailyModelCallCap: organizations.dailyModelCallCap,
  createdAt: organizations.createdAt,
  updatedAt: organizations.updatedAt,
};

export async function insertOrganization(
  db: Db,
  values: { id: string; name: string; idleArchiveDays?: number | null },
) {
  const [row] = await db.insert(organizations).values(values).returning(columns);
  return row;
}

export async function getOrganization(db: Db, id: string) {
  const [row] = await db.select(columns).from(organizations).where(eq(organizations.id, id)).limit(1);
  return row;
}

export function listOrganizations(db: Db) {
  return db.select(columns).from(organizations).orderBy(organizations.createdAt);
}

export type OrganizationChanges = { name?: string; dailyModelCallCap?: number | null; idleArchiveDays?: number | null };

/** Applies the given changes (null clears an override); undefined when there is no such organization. */
export async function updateOrganization(db: Db, id: string, changes: OrganizationChanges) {
  const [row] = await db
    .update(organizations)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(organizations.id, id))
    .returning(columns);
  return row;
}

/**
 * Deletes an organization and, through the foreign keys' ON DELETE CASCADE, everything it owns: API
 * keys, personas, sessions, messages, attachments, idempotency records, usage counters. One statement,
 * so it happens entirely or not at all. Returns the ids of its API keys, so the caller can drop them
 * from the key cache; undefined when there is no such organization.
 */
export async function deleteOrganization(db: Db, id: string) {
  const [row] = await db
    .delete(organizations)
    .where(eq(organizations.id, id))
    .returning({
      id: organizations.id,
      name: organizations.name,
      apiKeyIds: sql<string[]>`array(select ${apiKeys.id} from ${apiKeys} where ${apiKeys.organizationId} = ${id})`,
    });
  return row;
}
