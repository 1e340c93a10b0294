import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { personas } from '../schema';
import { personaColumns } from './projections';

export type PersonaRow = Awaited<ReturnType<typeof getPersona>> & {};

export type PersonaFields = {
  name: string;
  avatarUrl?: string | null | undefined;
  description?: string | null | undefined;
  instructions?: string | undefined;
  model?: string | null | undefined;
  temperature?: number | null | undefined;
  maxOutputTokens?: number | null | undefined;
  greeting?: string | null | undefined;
};

const live = (organizationId: string, id: string) =>
  and(eq(personas.organizationId, organizationId), eq(personas.id, id), isNull(personas.deletedAt));

export async function insertPersona(db: Db, organizationId: string, id: string, values: PersonaFields) {
  const [row] = await db
    .insert(personas)
    .values({ ...values, id, organizationId })
    .returning(personaColumns);
  return row;
}

export async function getPersona(db: Db, organizationId: string, id: string) {
  const [row] = await db.select(personaColumns).from(personas).where(live(organizationId, id)).limit(1);
  return row;
}

/** Newest first, keyset-paginated: `cursor` is the id of the last persona of the previous page. */
export function listPersonas(db: Db, organizationId: string, page: { limit: number; cursor?: string | undefined }) {
  const after = page.cursor
    ? sql`(${personas.createdAt}, ${personas.id}) < (select p2.created_at, p2.id from ${personas} p2 where p2.id = ${page.cursor} and p2.organization_id = ${organizationId})`
    : undefined;
  return db
    .select(personaColumns)
    .from(personas)
    .where(and(eq(personas.organizationId, organizationId), isNull(personas.deletedAt), after))
    .orderBy(desc(personas.createdAt), desc(personas.id))
    .limit(page.limit);
}

/** Applies a partial update and bumps the version, in one statement. */
export async function updatePersona(db: Db, organizationId: string, id: string, values: Partial<PersonaFields>) {
  const [row] = await db
    .update(personas)
    .set({ ...values, version: sql`${personas.version} + 1`, updatedAt: sql`now()` })
    .where(live(organizationId, id))
    .returning(personaColumns);
  return row;
}

/** Soft delete: the persona disappears from listings, its conversations stay readable. */
export async function softDeletePersona(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .update(personas)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(live(organizationId, id))
    .returning({ id: personas.id });
  return row;
}
