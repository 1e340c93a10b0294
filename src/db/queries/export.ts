import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import type { FeedbackRow } from './feedback';
import type { MessageRow } from './messages';
import { jsonObject, messageJson, type PersonaSnapshot, personaSnapshotColumns, sessionSelect } from './projections';
import { newSessionCtes, type SessionRow } from './sessions';

export type { PersonaSnapshot };

/**
 * Largest page of an export, in bytes of message JSON. Neon answers 507 past 10 MiB, and its HTTP
 * response carries each JSON value as an escaped string (up to twice as long): 4 MiB stays under.
 * A page always holds at least one message (a message is at most ~0.5 MiB of text).
 */
export const EXPORT_PAGE_BYTES = 4 * 1024 * 1024;

export type ExportedMessage = MessageRow & { feedback: FeedbackRow | null; supersededAt?: Date | string | null };

/**
 * One page of a session's export: the session, its persona as it is now (deleted or not), and up
 * to `limit` messages oldest first after the message id `cursor`, each with attachment metadata
 * (and text if asked) and its rating, cut at `pageBytes` of JSON. One round trip (a batch).
 */
export async function exportSessionPage(
  db: Db,
  organizationId: string,
  input: {
    chatSessionId: string;
    limit: number;
    cursor?: string | undefined;
    includeAttachmentText: boolean;
    pageBytes?: number;
  },
) {
  const budget = input.pageBytes ?? EXPORT_PAGE_BYTES;
  const after = input.cursor
    ? sql`and (m.created_at, m.id) > (select c.created_at, c.id from messages c
            where c.id = ${input.cursor} and c.organization_id = ${organizationId}
              and c.chat_session_id = ${input.chatSessionId})`
    : sql``;
  const session = db.execute<SessionRow & { persona: PersonaSnapshot }>(sql`
    select ${sessionSelect}, ${jsonObject(personaSnapshotColumns, { personas: 'p' })} as persona
    from chat_sessions s
    join personas p on p.id = s.persona_id and p.organization_id = ${organizationId}
    where s.id = ${input.chatSessionId} and s.organization_id = ${organizationId}`);
  const messages = { includeAttachmentText: input.includeAttachmentText, feedback: true };
  const page = db.execute<{ j: ExportedMessage; fetched: number }>(sql`
    with picked as (
      select m.created_at, m.id, ${messageJson(organizationId, messages)} as j
      from messages m
      where m.chat_session_id = ${input.chatSessionId} and m.organization_id = ${organizationId} ${after}
      order by m.created_at, m.id
      limit ${input.limit + 1}
    ), sized as (
      select id, created_at, j,
        sum(octet_length(j::text)) over (order by created_at, id) - octet_length(j::text) as before,
        count(*) over ()::integer as fetched
      from picked
    )
    select j, fetched from sized where before < ${budget}
    order by created_at, id`);
  const [head, body] = await db.batch([session, page]);
  const row = head.rows[0];
  if (!row) return undefined;
  const { persona, ...sessionRow } = row;
  const fetched = body.rows[0]?.fetched ?? 0;
  // The budget can only shrink the page; the extra row fetched tells whether more follow.
  const kept = body.rows.slice(0, input.limit).map((r) => r.j);
  const more = fetched > kept.length;
  return { session: sessionRow, persona, messages: kept, nextCursor: more ? (kept.at(-1)?.id ?? null) : null };
}

export type ImportedMessage = {
  id: string;
  role: string;
  content: string;
  status: string;
  metadata: Record<string, unknown>;
  replyToId: string | null;
  createdAt: string;
  /** A reply version not in use (chat.regenerate); null for messages in use. */
  supersededAt: string | null;
  feedback: { rating: string; reason: string | null; comment: string | null; userId: string | null } | null;
};

/** The imported messages and their ratings as the two JSON parameters of importSession's statement. */
function importRows(imported: ImportedMessage[]) {
  const messages = JSON.stringify(
    imported.map((m) => ({
      id: m.id,
      role: m.role,
      content: m.content,
      status: m.status,
      metadata: m.metadata,
      reply_to_id: m.replyToId,
      created_at: m.createdAt,
      superseded_at: m.supersededAt,
    })),
  );
  const feedback = JSON.stringify(
    imported
      .filter((m) => m.feedback)
      .map((m) => ({
        message_id: m.id,
        rating: m.feedback?.rating,
        reason: m.feedback?.reason ?? null,
        comment: m.feedback?.comment ?? null,
        user_id: m.feedback?.userId ?? null,
      })),
  );
  return { messages, feedback };
}

/**
 * Creates a session with its whole history in one statement: nothing is written unless all of it
 * is (persona unknown or deleted: no row). Messages keep the given order through their createdAt
 * (non-decreasing, checked by the caller) and ids made in that order.
 */
export async function importSession(
  db: Db,
  organizationId: string,
  values: {
    id: string;
    personaId: string;
    title: string | null;
    platform: string;
    userId: string | null;
    messages: ImportedMessage[];
  },
): Promise<SessionRow | undefined> {
  const { messages, feedback } = importRows(values.messages);
  // The session's count holds the messages in use, as chat.regenerate keeps it.
  const inUse = values.messages.filter((m) => m.supersededAt === null).length;
  const result = await db.execute<SessionRow>(sql`
    with ${newSessionCtes(organizationId, values, sql`${inUse}`)}, m as (
      insert into messages (id, organization_id, chat_session_id, role, content, status, metadata, reply_to_id,
        created_at, updated_at, superseded_at)
      select x.id, ${organizationId}, s.id, x.role::message_role, x.content, x.status::message_status,
             x.metadata, x.reply_to_id, x.created_at, x.created_at, x.superseded_at
      from s, jsonb_to_recordset(${messages}::jsonb) as x(
        id text, role text, content text, status text, metadata jsonb, reply_to_id text, created_at timestamptz,
        superseded_at timestamptz)
      returning id
    ), f as (
      insert into message_feedback (message_id, organization_id, chat_session_id, persona_id, rating, reason, comment, user_id)
      select x.message_id, ${organizationId}, s.id, s.persona_id, x.rating::feedback_rating, x.reason, x.comment, x.user_id
      from s, jsonb_to_recordset(${feedback}::jsonb) as x(
        message_id text, rating text, reason text, comment text, user_id text)
      returning message_id
    )
    select ${sessionSelect}, (select count(*) from m) as "importedMessages", (select count(*) from f) as "importedFeedback"
    from s, p`);
  return result.rows[0];
}
