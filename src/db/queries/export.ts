import { sql } from 'drizzle-orm';
import { batchRaw, type Db } from '../client';
import { attachmentsJson } from './attachment-projection';
import { type FeedbackRow, feedbackFromRaw } from './feedback';
import { type MessageRow, messageFromRaw } from './messages';
import { type SessionRow, sessionFromRaw } from './sessions';

/**
 * Largest page of an export, in bytes of message JSON. Neon answers 507 past 10 MiB, and its HTTP
 * response carries each JSON value as an escaped string (up to twice as long): 4 MiB stays under.
 * A page always holds at least one message (a message is at most ~0.5 MiB of text).
 */
export const EXPORT_PAGE_BYTES = 4 * 1024 * 1024;

export type ExportedMessage = MessageRow & { feedback: FeedbackRow | null };

export type PersonaSnapshot = {
  id: string;
  name: string;
  avatarUrl: string | null;
  description: string | null;
  instructions: string;
  model: string | null;
  temperature: number | null;
  maxOutputTokens: number | null;
  greeting: string | null;
  version: number;
  createdAt: Date | string;
  updatedAt: Date | string;
  deletedAt: Date | string | null;
};

function personaFromRaw(r: Record<string, unknown>): PersonaSnapshot {
  return {
    id: r.p_id as string,
    name: r.p_name as string,
    avatarUrl: (r.p_avatar_url as string | null) ?? null,
    description: (r.p_description as string | null) ?? null,
    instructions: r.p_instructions as string,
    model: (r.p_model as string | null) ?? null,
    temperature: r.p_temperature === null ? null : Number(r.p_temperature),
    maxOutputTokens: r.p_max_output_tokens === null ? null : Number(r.p_max_output_tokens),
    greeting: (r.p_greeting as string | null) ?? null,
    version: Number(r.p_version),
    createdAt: r.p_created_at as Date | string,
    updatedAt: r.p_updated_at as Date | string,
    deletedAt: (r.p_deleted_at as Date | string | null) ?? null,
  };
}

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
  const session = db.execute(sql`
    select s.*, p.name as persona_name, p.avatar_url as persona_avatar_url,
      p.id as p_id, p.name as p_name, p.avatar_url as p_avatar_url, p.description as p_description,
      p.instructions as p_instructions, p.model as p_model, p.temperature as p_temperature,
      p.max_output_tokens as p_max_output_tokens, p.greeting as p_greeting, p.version as p_version,
      p.created_at as p_created_at, p.updated_at as p_updated_at, p.deleted_at as p_deleted_at
    from chat_sessions s
    join personas p on p.id = s.persona_id and p.organization_id = ${organizationId}
    where s.id = ${input.chatSessionId} and s.organization_id = ${organizationId}`);
  const page = db.execute(sql`
    with picked as (
      select m.created_at, m.id, json_build_object(
        'id', m.id, 'chat_session_id', m.chat_session_id, 'role', m.role, 'content', m.content,
        'status', m.status, 'metadata', m.metadata, 'reply_to_id', m.reply_to_id,
        'created_at', m.created_at, 'updated_at', m.updated_at,
        'attachments', ${attachmentsJson(organizationId, input.includeAttachmentText)},
        'feedback', (
          select json_build_object(
            'message_id', f.message_id, 'chat_session_id', f.chat_session_id, 'persona_id', f.persona_id,
            'rating', f.rating, 'reason', f.reason, 'comment', f.comment, 'user_id', f.user_id,
            'created_at', f.created_at, 'updated_at', f.updated_at)
          from message_feedback f where f.message_id = m.id and f.organization_id = ${organizationId}
        )
      ) as j
      from messages m
      where m.chat_session_id = ${input.chatSessionId} and m.organization_id = ${organizationId} ${after}
      order by m.created_at, m.id
      limit ${input.limit + 1}
    ), sized as (
      select id, created_at, j,
        sum(octet_length(j::text)) over (order by created_at, id) - octet_length(j::text) as before,
        count(*) over () as fetched
      from picked
    )
    select j, fetched from sized where before < ${budget}
    order by created_at, id`);
  const [head, body] = await batchRaw(db, [session, page]);
  const row = head?.rows[0];
  if (!row) return undefined;
  const rows = body?.rows ?? [];
  const fetched = Number(rows[0]?.fetched ?? 0);
  // The budget can only shrink the page; the extra row fetched tells whether more follow.
  const kept = rows.slice(0, input.limit);
  const messages: ExportedMessage[] = kept.map((r) => {
    const j = r.j as Record<string, unknown>;
    const feedback = j.feedback as Record<string, unknown> | null;
    return { ...messageFromRaw(j), feedback: feedback ? feedbackFromRaw(feedback) : null };
  });
  const more = fetched > kept.length;
  return {
    session: sessionFromRaw(row) as SessionRow,
    persona: personaFromRaw(row),
    messages,
    nextCursor: more ? (messages.at(-1)?.id ?? null) : null,
  };
}

export type ImportedMessage = {
  id: string;
  role: string;
  content: string;
  status: string;
  metadata: Record<string, unknown>;
  replyToId: string | null;
  createdAt: string;
  feedback: { rating: string; reason: string | null; comment: string | null; userId: string | null } | null;
};

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
  const messages = JSON.stringify(
    values.messages.map((m) => ({
      id: m.id,
      role: m.role,
      content: m.content,
      status: m.status,
      metadata: m.metadata,
      reply_to_id: m.replyToId,
      created_at: m.createdAt,
    })),
  );
  const feedback = JSON.stringify(
    values.messages
      .filter((m) => m.feedback)
      .map((m) => ({
        message_id: m.id,
        rating: m.feedback?.rating,
        reason: m.feedback?.reason ?? null,
        comment: m.feedback?.comment ?? null,
        user_id: m.feedback?.userId ?? null,
      })),
  );
  const result = await db.execute(sql`
    with p as (
      select id, name, avatar_url from personas
      where id = ${values.personaId} and organization_id = ${organizationId} and deleted_at is null
    ), s as (
      insert into chat_sessions (id, organization_id, persona_id, user_id, title, platform, message_count)
      select ${values.id}, ${organizationId}, p.id, ${values.userId}, ${values.title}, ${values.platform}::platform,
             ${values.messages.length}
      from p
      returning *
    ), m as (
      insert into messages (id, organization_id, chat_session_id, role, content, status, metadata, reply_to_id, created_at, updated_at)
      select x.id, ${organizationId}, s.id, x.role::message_role, x.content, x.status::message_status,
             x.metadata, x.reply_to_id, x.created_at, x.created_at
      from s, jsonb_to_recordset(${messages}::jsonb) as x(
        id text, role text, content text, status text, metadata jsonb, reply_to_id text, created_at timestamptz)
      returning id
    ), f as (
      insert into message_feedback (message_id, organization_id, chat_session_id, persona_id, rating, reason, comment, user_id)
      select x.message_id, ${organizationId}, s.id, s.persona_id, x.rating::feedback_rating, x.reason, x.comment, x.user_id
      from s, jsonb_to_recordset(${feedback}::jsonb) as x(
        message_id text, rating text, reason text, comment text, user_id text)
      returning message_id
    )
    select s.*, p.name as persona_name, p.avatar_url as persona_avatar_url,
      (select count(*) from m) as imported_messages, (select count(*) from f) as imported_feedback
    from s, p`);
  const row = result.rows[0];
  return row ? sessionFromRaw(row) : undefined;
}
