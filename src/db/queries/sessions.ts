import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { newId } from '../../ids';
import type { Db } from '../client';
import type { platforms, sessionStatuses } from '../schema';
import { chatSessions, personas } from '../schema';
import { claimKey, type IdempotencyClaim, type IdempotencyRecord, readKey, recordFromRaw } from './idempotency';
import type { MessageRow } from './messages';
import { messageJson, type SessionRow, sessionColumns, sessionSelect } from './projections';
import { addUsage } from './usage';
import { outboxCte, sessionArchivedPayload } from './webhook-outbox';

export type { SessionRow };

type Platform = (typeof platforms)[number];
type SessionStatus = (typeof sessionStatuses)[number];

/** What a new session is made of; its persona must be a live one of the organization. */
export type NewSession = {
  id: string;
  personaId: string;
  title: string | null;
  platform: string;
  userId: string | null;
};

/**
 * The CTEs every statement creating a session starts with: `p`, the organization's live persona,
 * and `s`, the new session made from it (its row returned), with `messageCount` messages. `claim`,
 * when given, is a CTE body run between the two: the session is made only if it returns a row.
 */
export function newSessionCtes(organizationId: string, session: NewSession, messageCount: SQL, claim?: SQL): SQL {
  return sql`p as (
      select id, name, avatar_url, greeting, version from personas
      where id = ${session.personaId} and organization_id = ${organizationId} and deleted_at is null
    )${claim ? sql`, claim as (${claim})` : sql``}, s as (
      insert into chat_sessions (id, organization_id, persona_id, user_id, title, platform, message_count)
      select ${session.id}, ${organizationId}, p.id, ${session.userId}, ${session.title}, ${session.platform}::platform,
             ${messageCount}
      from p ${claim ? sql`where exists (select 1 from claim)` : sql``}
      returning *
    )`;
}

/**
 * Creates a session with a live persona of the organization, and the persona's greeting as the
 * first message when it has one, in one statement. No session comes back when the persona is
 * unknown, or when the Idempotency-Key is held by an earlier request (its record comes back then).
 */
export async function insertSession(
  db: Db,
  organizationId: string,
  values: NewSession & {
    platform: Platform;
    greetingMessageId: string;
    idempotency: IdempotencyClaim | undefined;
  },
): Promise<{ session: SessionRow | undefined; idempotency: IdempotencyRecord | undefined; webhookEvents: number }> {
  const claim = values.idempotency ? claimKey(organizationId, values.idempotency, sql`p`) : undefined;
  const greeted = sql`case when coalesce(p.greeting, '') = '' then 0 else 1 end`;
  const insert = db.execute<SessionRow>(sql`
    with ${newSessionCtes(organizationId, values, greeted, claim)}, g as (
      insert into messages (id, organization_id, chat_session_id, role, content, metadata)
      select ${values.greetingMessageId}, ${organizationId}, s.id, 'ASSISTANT', p.greeting,
             jsonb_build_object('greeting', true, 'personaVersion', p.version)
      from s, p where coalesce(p.greeting, '') <> ''
      returning id
    ), usage as (${addUsage(sql`select s.organization_id, s.persona_id, 1, 0, 0, 0, 0, 0, 0 from s`)}),
    ${outboxCte('event', {
      id: newId('webhookEvent'),
      organizationId,
      type: 'session.created',
      from: sql`s`,
      payload: sql`jsonb_build_object('session', jsonb_build_object('id', s.id, 'personaId', s.persona_id,
        'userId', s.user_id, 'title', s.title, 'platform', s.platform, 'status', s.status, 'createdAt', s.created_at))`,
    })}
    select ${sessionSelect}, (select count(*)::int from event) as "webhookEvents" from s, p`);
  const webhookEvents = (rows: (SessionRow & { webhookEvents?: number })[]) => Number(rows[0]?.webhookEvents ?? 0);
  if (!values.idempotency) {
    const rows = (await insert).rows;
    return { session: rows[0], idempotency: undefined, webhookEvents: webhookEvents(rows) };
  }
  const [created, key] = await db.batch([insert, readKey(db, organizationId, values.idempotency.key)]);
  return {
    session: created.rows[0],
    idempotency: recordFromRaw(key.rows[0]),
    webhookEvents: webhookEvents(created.rows),
  };
}

/** One session with its persona summary and counts, without messages. */
export async function getSessionSummary(db: Db, organizationId: string, id: string): Promise<SessionRow | undefined> {
  const [row] = await db
    .select(sessionColumns)
    .from(chatSessions)
    .innerJoin(personas, and(eq(personas.id, chatSessions.personaId), eq(personas.organizationId, organizationId)))
    .where(and(eq(chatSessions.id, id), eq(chatSessions.organizationId, organizationId)))
    .limit(1);
  return row;
}

export type SessionFilter = {
  personaId?: string | undefined;
  userId?: string | undefined;
  status?: SessionStatus | undefined;
  platform?: Platform | undefined;
};

/**
 * Newest activity first. Keyset pagination: `cursor` is the id of the last session of the previous
 * page, so each page is one index range scan however deep it is.
 */
export function listSessions(
  db: Db,
  organizationId: string,
  filter: SessionFilter,
  page: { limit: number; cursor?: string | undefined },
): Promise<SessionRow[]> {
  const after = page.cursor
    ? sql`(${chatSessions.lastActivityAt}, ${chatSessions.id}) < (select c.last_activity_at, c.id from ${chatSessions} c where c.id = ${page.cursor} and c.organization_id = ${organizationId})`
    : undefined;
  return (
    db
      .select(sessionColumns)
      .from(chatSessions)
      .innerJoin(personas, and(eq(personas.id, chatSessions.personaId), eq(personas.organizationId, organizationId)))
      .where(
        and(
          eq(chatSessions.organizationId, organizationId),
          filter.personaId ? eq(chatSessions.personaId, filter.personaId) : undefined,
          filter.userId ? eq(chatSessions.userId, filter.userId) : undefined,
          filter.status ? eq(chatSessions.status, filter.status) : undefined,
          filter.platform ? eq(chatSessions.platform, filter.platform) : undefined,
          after,
        ),
      )
      // NULLS LAST as in the indexes (drizzle-kit writes `.desc()` so): with Postgres's default
      // NULLS FIRST no index supplies the order and every page would sort the organization's sessions.
      .orderBy(sql`${chatSessions.lastActivityAt} desc nulls last`, sql`${chatSessions.id} desc nulls last`)
      .limit(page.limit)
  );
}

/** The session, its persona and every message (with attachment metadata), in one round trip. */
export async function getSessionWithMessages(
  db: Db,
  organizationId: string,
  id: string,
  options: { includeAttachmentText: boolean },
) {
  const result = await db.execute<SessionRow & { messages: MessageRow[] }>(sql`
    select ${sessionSelect},
      coalesce((
        select json_agg(${messageJson(organizationId, options)} order by m.created_at, m.id)
        from messages m where m.chat_session_id = s.id and m.organization_id = ${organizationId}
          -- Only the reply versions in use (chat.listReplyVersions shows the others).
          and m.superseded_at is null
      ), '[]'::json) as messages
    from chat_sessions s
    join personas p on p.id = s.persona_id and p.organization_id = ${organizationId}
    where s.id = ${id} and s.organization_id = ${organizationId}`);
  const row = result.rows[0];
  if (!row) return undefined;
  const { messages, ...session } = row;
  return { session, messages };
}

export type SessionChanges = { title?: string | null | undefined; status?: SessionStatus | undefined };

/**
 * Renames and/or archives or reactivates. Archiving records when and why; reactivating counts as
 * activity, so the idle clock starts again and the session is not re-archived straight away.
 */
export async function updateSession(
  db: Db,
  organizationId: string,
  id: string,
  changes: SessionChanges,
): Promise<(SessionRow & { webhookEvents?: number }) | undefined> {
  const set: PgUpdateSetSource<typeof chatSessions> = { updatedAt: sql`now()` };
  if (changes.title !== undefined) set.title = changes.title;
  if (changes.status === 'ARCHIVED') {
    set.status = 'ARCHIVED';
    set.archivedAt = sql`coalesce(${chatSessions.archivedAt}, now())`;
    set.archiveReason = sql`coalesce(${chatSessions.archiveReason}, 'manual')`;
  } else if (changes.status === 'ACTIVE') {
    set.status = 'ACTIVE';
    set.archivedAt = null;
    set.archiveReason = null;
    set.lastActivityAt = sql`case when ${chatSessions.status} = 'ARCHIVED' then now() else ${chatSessions.lastActivityAt} end`;
  }
  const update = db
    .update(chatSessions)
    .set(set)
    .from(personas)
    .where(
      and(
        eq(chatSessions.id, id),
        eq(chatSessions.organizationId, organizationId),
        eq(personas.id, chatSessions.personaId),
        eq(personas.organizationId, organizationId),
      ),
    )
    .returning(sessionColumns);
  if (changes.status !== 'ARCHIVED') return (await update)[0];
  // Archiving writes session.archived in the same transaction (one batch), only when this request
  // archived it: archived_at is then this transaction's now().
  const [[row], events] = await db.batch([update, archivedEvent(db, organizationId, id)]);
  return row && { ...row, webhookEvents: Number(events.rows[0]?.n ?? 0) };
}

function archivedEvent(db: Db, organizationId: string, id: string) {
  return db.execute<{ n: number }>(sql`
    with archived as (
      select id, archived_at, archive_reason from chat_sessions
      where id = ${id} and organization_id = ${organizationId} and status = 'ARCHIVED'
        -- archived_at keeps milliseconds (timestamptz(3)): compare with now() rounded the same way.
        and archived_at = now()::timestamptz(3)
    ), ${outboxCte('event', {
      id: newId('webhookEvent'),
      organizationId,
      type: 'session.archived',
      from: sql`archived`,
      payload: sessionArchivedPayload(sql`archived`),
    })}
    select count(*)::int as n from event`);
}

/** Deletes the session; its messages and attachments go with it (ON DELETE CASCADE). */
export async function deleteSession(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .delete(chatSessions)
    .where(and(eq(chatSessions.id, id), eq(chatSessions.organizationId, organizationId)))
    .returning({ id: chatSessions.id });
  return row;
}

/** Whether a session can take a message: its status and whether its persona was deleted. */
export async function getSessionState(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .select({ status: chatSessions.status, personaId: chatSessions.personaId, personaDeletedAt: personas.deletedAt })
    .from(chatSessions)
    .innerJoin(personas, and(eq(personas.id, chatSessions.personaId), eq(personas.organizationId, organizationId)))
    .where(and(eq(chatSessions.id, id), eq(chatSessions.organizationId, organizationId)))
    .limit(1);
  return row
    ? { status: row.status, personaId: row.personaId, personaDeleted: row.personaDeletedAt !== null }
    : undefined;
}
