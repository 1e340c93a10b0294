import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { messages, personas, publishableKeys, type VisitorLimits } from '../schema';

/** Columns safe to return: never the hash. */
const publicColumns = {
  id: publishableKeys.id,
  organizationId: publishableKeys.organizationId,
  name: publishableKeys.name,
  prefix: publishableKeys.prefix,
  allowedOrigins: publishableKeys.allowedOrigins,
  allowedPersonaIds: publishableKeys.allowedPersonaIds,
  visitorLimits: publishableKeys.visitorLimits,
  createdAt: publishableKeys.createdAt,
  revokedAt: publishableKeys.revokedAt,
};

export type PublishableKeyRow = {
  id: string;
  organizationId: string;
  name: string;
  prefix: string;
  allowedOrigins: string[];
  allowedPersonaIds: string[];
  visitorLimits: VisitorLimits;
  createdAt: Date;
  revokedAt: Date | null;
};

/** The one lookup not scoped by organization: which organization a presented publishable key belongs to. */
export async function findPublishableKeyByHash(db: Db, hash: string): Promise<PublishableKeyRow | undefined> {
  const [row] = await db.select(publicColumns).from(publishableKeys).where(eq(publishableKeys.hash, hash)).limit(1);
  return row;
}

export async function insertPublishableKey(
  db: Db,
  organizationId: string,
  values: {
    id: string;
    name: string;
    prefix: string;
    hash: string;
    allowedOrigins: string[];
    allowedPersonaIds: string[];
    visitorLimits: VisitorLimits;
  },
): Promise<PublishableKeyRow | undefined> {
  const [row] = await db
    .insert(publishableKeys)
    .values({ ...values, organizationId })
    .returning(publicColumns);
  return row;
}

export function listPublishableKeys(db: Db, organizationId: string): Promise<PublishableKeyRow[]> {
  return db
    .select(publicColumns)
    .from(publishableKeys)
    .where(eq(publishableKeys.organizationId, organizationId))
    .orderBy(desc(publishableKeys.createdAt))
    .limit(1000);
}

export async function revokePublishableKey(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .update(publishableKeys)
    .set({ revokedAt: sql`coalesce(${publishableKeys.revokedAt}, now())` })
    .where(and(eq(publishableKeys.organizationId, organizationId), eq(publishableKeys.id, id)))
    .returning(publicColumns);
  return row;
}

/** The session a message belongs to, within the organization (a visitor may act only on its own session's replies). */
export async function sessionOfMessage(db: Db, organizationId: string, messageId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ chatSessionId: messages.chatSessionId })
    .from(messages)
    .where(and(eq(messages.organizationId, organizationId), eq(messages.id, messageId)))
    .limit(1);
  return row?.chatSessionId;
}

/**
 * User messages sent in a session since UTC midnight, counted up to `cap` at most: the work is bounded by
 * the cap (index messages_session_order_idx), never by the session's age.
 */
export async function visitorMessagesToday(
  db: Db,
  organizationId: string,
  chatSessionId: string,
  cap: number,
): Promise<number> {
  const today = db
    .select({ one: sql`1` })
    .from(messages)
    .where(
      and(
        eq(messages.chatSessionId, chatSessionId),
        eq(messages.organizationId, organizationId),
        eq(messages.role, 'USER'),
        sql`${messages.createdAt} >= date_trunc('day', now() at time zone 'utc') at time zone 'utc'`,
      ),
    )
    .limit(cap)
    .as('today');
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(today);
  return row?.n ?? 0;
}

/** Which of these personas exist (not deleted) in the organization. */
export async function existingPersonaIds(db: Db, organizationId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: personas.id })
    .from(personas)
    .where(and(eq(personas.organizationId, organizationId), inArray(personas.id, ids), isNull(personas.deletedAt)));
  return rows.map((r) => r.id);
}
