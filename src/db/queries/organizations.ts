import { eq } from 'drizzle-orm';
import type { Db } from '../client';
import { organizations } from '../schema';

const columns = {
  id: organizations.id,
  name: organizations.name,
  idleArchiveDays: organizations.idleArchiveDays,
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
