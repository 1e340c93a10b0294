import { sql } from 'drizzle-orm';
import type { HistoryMessage } from '../../ai/prompt';
import { batchRaw, type Db } from '../client';

export type MessageRole = 'USER' | 'ASSISTANT' | 'SYSTEM';
export type MessageStatus = 'COMPLETE' | 'STREAMING' | 'INCOMPLETE' | 'STOPPED';

export type MessageRow = {
  id: string;
  chatSessionId: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  metadata: Record<string, unknown>;
  replyToId: string | null;
  createdAt: Date | string;
  updatedAt: Date | string;
  attachments?: Record<string, unknown>[];
};

export function messageFromRaw(r: Record<string, unknown>): MessageRow {
  return {
    id: r.id as string,
    chatSessionId: r.chat_session_id as string,
    role: r.role as MessageRole,
    content: r.content as string,
    status: r.status as MessageStatus,
    metadata: (r.metadata as Record<string, unknown> | null) ?? {},
    replyToId: (r.reply_to_id as string | null) ?? null,
    createdAt: r.created_at as Date | string,
    updatedAt: r.updated_at as Date | string,
    ...(Array.isArray(r.attachments) ? { attachments: r.attachments as Record<string, unknown>[] } : {}),
  };
}

const returning = sql.raw('id, chat_session_id, role, content, status, metadata, reply_to_id, created_at, updated_at');

export type NewAttachment = {
  id: string;
  filename: string;
  declaredType: string;
  detectedType: string;
  byteSize: number;
  sha256: string;
  pageCount: number | null;
  charCount: number;
  text: string;
  truncated: boolean;
  hasText: boolean;
};

/** What the turn's first round trip learns about the session and its persona. */
export type TurnSession = {
  status: 'ACTIVE' | 'ARCHIVED';
  messageCount: number;
  personaDeleted: boolean;
  persona: {
    id: string;
    name: string;
    instructions: string;
    model: string | null;
    temperature: number | null;
    maxOutputTokens: number | null;
    version: number;
  };
};

export type BeginTurnResult = {
  session: TurnSession | undefined;
  message: MessageRow | undefined;
  reply: MessageRow | undefined;
  /** Oldest first, ending with the new message. */
  history: HistoryMessage[];
};

/**
 * The first round trip of a turn, as one transaction: store the message (and its attachments) only
 * if the session is the organization's, ACTIVE, and its persona not deleted; when a reply is wanted,
 * also store an empty STREAMING placeholder for it; then read the session, its persona and the
 * recent history. Nothing is written when the session cannot take the message.
 */
export async function beginTurn(
  db: Db,
  organizationId: string,
  input: {
    chatSessionId: string;
    message: { id: string; role: MessageRole; content: string; metadata: Record<string, unknown> };
    attachments: NewAttachment[];
    /** Id for the assistant placeholder; absent when no reply is generated. */
    replyId: string | undefined;
    historyLimit: number;
  },
): Promise<BeginTurnResult> {
  const { chatSessionId, message, replyId } = input;
  const added = replyId ? 2 : 1;
  const insertTurn = db.execute(sql`
    with target as (
      select s.id from chat_sessions s
      join personas p on p.id = s.persona_id and p.organization_id = ${organizationId}
      where s.id = ${chatSessionId} and s.organization_id = ${organizationId}
        and s.status = 'ACTIVE' and p.deleted_at is null
      -- Locks the session row for this statement: a concurrent archival waits or skips it, and
      -- concurrent sends to the session take turns instead of deadlocking on the counter update.
      for no key update of s
    ), ins as (
      insert into messages (id, organization_id, chat_session_id, role, content, metadata)
      select ${message.id}, ${organizationId}, target.id, ${message.role}, ${message.content},
             ${JSON.stringify(message.metadata)}::jsonb
      from target
      returning ${returning}
    ), reply as (
      insert into messages (id, organization_id, chat_session_id, role, content, status, reply_to_id, created_at, updated_at)
      select ${replyId ?? null}, ${organizationId}, ins.chat_session_id, 'ASSISTANT', '', 'STREAMING', ins.id,
             clock_timestamp(), clock_timestamp()
      from ins where ${replyId ?? null}::text is not null
      returning ${returning}
    ), bump as (
      update chat_sessions set message_count = message_count + ${added},
             last_activity_at = now(), updated_at = now()
      where id in (select chat_session_id from ins) and organization_id = ${organizationId}
      returning id
    )
    select 'message' as kind, ins.* from ins
    union all
    select 'reply' as kind, reply.* from reply`);
  const insertAttachments = db.execute(sql`
    insert into attachments (id, organization_id, message_id, filename, declared_type, detected_type,
      byte_size, sha256, page_count, char_count, text, truncated, has_text)
    select x.id, ${organizationId}, ${message.id}, x.filename, x.declared_type, x.detected_type,
      x.byte_size, x.sha256, x.page_count, x.char_count, x.text, x.truncated, x.has_text
    from jsonb_to_recordset(${JSON.stringify(
      input.attachments.map((a) => ({
        id: a.id,
        filename: a.filename,
        declared_type: a.declaredType,
        detected_type: a.detectedType,
        byte_size: a.byteSize,
        sha256: a.sha256,
        page_count: a.pageCount,
        char_count: a.charCount,
        text: a.text,
        truncated: a.truncated,
        has_text: a.hasText,
      })),
    )}::jsonb) as x(id text, filename text, declared_type text, detected_type text, byte_size int,
      sha256 text, page_count int, char_count int, text text, truncated boolean, has_text boolean)
    where exists (select 1 from messages m where m.id = ${message.id} and m.organization_id = ${organizationId})`);
  const readSession = db.execute(sql`
    select s.status, s.message_count, p.deleted_at is not null as persona_deleted,
      p.id as persona_id, p.name, p.instructions, p.model, p.temperature, p.max_output_tokens, p.version
    from chat_sessions s
    join personas p on p.id = s.persona_id and p.organization_id = ${organizationId}
    where s.id = ${chatSessionId} and s.organization_id = ${organizationId}`);
  const readHistory = db.execute(sql`
    select m.id, m.role, m.content, m.status,
      coalesce((
        select json_agg(json_build_object('id', a.id, 'filename', a.filename, 'text', a.text,
          'hasText', a.has_text, 'truncated', a.truncated, 'pageCount', a.page_count)
          order by a.created_at, a.id)
        from attachments a where a.message_id = m.id and a.organization_id = ${organizationId}
      ), '[]'::json) as attachments
    from messages m
    where m.chat_session_id = ${chatSessionId} and m.organization_id = ${organizationId}
      and m.status <> 'STREAMING'
      and (m.created_at, m.id) <= (select created_at, id from messages
                                   where id = ${message.id} and organization_id = ${organizationId})
    order by m.created_at desc, m.id desc
    limit ${input.historyLimit}`);

  const results = await batchRaw(
    db,
    input.attachments.length
      ? [insertTurn, insertAttachments, readSession, readHistory]
      : [insertTurn, readSession, readHistory],
  );
  const turnRows = results[0]?.rows ?? [];
  const sessionRow = results.at(-2)?.rows[0];
  const historyRows = results.at(-1)?.rows ?? [];

  const stored = turnRows.find((r) => r.kind === 'message');
  const reply = turnRows.find((r) => r.kind === 'reply');
  return {
    session: sessionRow
      ? {
          status: sessionRow.status as TurnSession['status'],
          messageCount: Number(sessionRow.message_count),
          personaDeleted: sessionRow.persona_deleted === true,
          persona: {
            id: sessionRow.persona_id as string,
            name: sessionRow.name as string,
            instructions: sessionRow.instructions as string,
            model: (sessionRow.model as string | null) ?? null,
            temperature: sessionRow.temperature === null ? null : Number(sessionRow.temperature),
            maxOutputTokens: sessionRow.max_output_tokens === null ? null : Number(sessionRow.max_output_tokens),
            version: Number(sessionRow.version),
          },
        }
      : undefined,
    message: stored ? messageFromRaw(stored) : undefined,
    reply: reply ? messageFromRaw(reply) : undefined,
    history: historyRows.reverse().map((r) => ({
      id: r.id as string,
      role: r.role as MessageRole,
      content: r.content as string,
      status: r.status as MessageStatus,
      attachments: (r.attachments as HistoryMessage['attachments'] | null) ?? [],
    })),
  };
}

/**
 * The turn's last round trip: the placeholder becomes the reply (complete or not) with its
 * metadata. Scoped to the organization; a reply whose session was deleted meanwhile is dropped.
 */
export async function finishReply(
  db: Db,
  organizationId: string,
  input: { id: string; content: string; status: MessageStatus; metadata: Record<string, unknown> },
): Promise<MessageRow | undefined> {
  const result = await db.execute(sql`
    update messages set content = ${input.content}, status = ${input.status},
      metadata = ${JSON.stringify(input.metadata)}::jsonb, updated_at = now()
    where id = ${input.id} and organization_id = ${organizationId}
    returning ${returning}`);
  const row = result.rows[0];
  return row ? messageFromRaw(row) : undefined;
}

/**
 * Messages of a session, oldest first, keyset-paginated after the message id `cursor`.
 * One round trip; no row and no error when the session is not the organization's (the caller
 * tells 404 from an empty page with the session check in the same statement).
 */
export async function listMessages(
  db: Db,
  organizationId: string,
  input: { chatSessionId: string; limit: number; cursor?: string | undefined },
) {
  const after = input.cursor
    ? sql`and (m.created_at, m.id) > (select c.created_at, c.id from messages c
            where c.id = ${input.cursor} and c.organization_id = ${organizationId}
              and c.chat_session_id = ${input.chatSessionId})`
    : sql``;
  const result = await db.execute(sql`
    select s.id as session_id, m.id, m.chat_session_id, m.role, m.content, m.status, m.metadata,
      m.reply_to_id, m.created_at, m.updated_at,
      coalesce((
        select json_agg(json_build_object(
          'id', a.id, 'filename', a.filename, 'declared_type', a.declared_type,
          'detected_type', a.detected_type, 'byte_size', a.byte_size, 'sha256', a.sha256,
          'page_count', a.page_count, 'char_count', a.char_count, 'truncated', a.truncated,
          'has_text', a.has_text, 'created_at', a.created_at) order by a.created_at, a.id)
        from attachments a where a.message_id = m.id and a.organization_id = ${organizationId}
      ), '[]'::json) as attachments
    from chat_sessions s
    left join lateral (
      select * from messages m
      where m.chat_session_id = s.id and m.organization_id = ${organizationId} ${after}
      order by m.created_at, m.id
      limit ${input.limit}
    ) m on true
    where s.id = ${input.chatSessionId} and s.organization_id = ${organizationId}
    order by m.created_at, m.id`);
  if (result.rows.length === 0) return undefined;
  return result.rows.filter((r) => r.id !== null).map(messageFromRaw);
}

/**
 * Saves a reply's text so far while it is generated, so another request can resume it; doubles as
 * a heartbeat (updated_at). Returns false when the reply is no longer STREAMING: it was stopped.
 */
export async function saveReplyProgress(db: Db, organizationId: string, id: string, content: string) {
  const result = await db.execute(sql`
    update messages set content = ${content}, updated_at = now()
    where id = ${id} and organization_id = ${organizationId} and status = 'STREAMING'
    returning id`);
  return result.rows.length > 0;
}

/** Marks a reply being generated as STOPPED; the generator notices and keeps what it has. */
export async function markReplyStopped(db: Db, organizationId: string, id: string) {
  const result = await db.execute(sql`
    with stopped as (
      update messages set status = 'STOPPED', updated_at = now()
      where id = ${id} and organization_id = ${organizationId} and role = 'ASSISTANT' and status = 'STREAMING'
      returning ${returning}
    )
    select true as changed, stopped.* from stopped
    union all
    select false as changed, ${returning} from messages
    where id = ${id} and organization_id = ${organizationId} and not exists (select 1 from stopped)`);
  const row = result.rows[0];
  return row ? { changed: row.changed === true, message: messageFromRaw(row) } : undefined;
}

/** One message of the organization, or undefined. */
export async function getMessage(db: Db, organizationId: string, id: string): Promise<MessageRow | undefined> {
  const result = await db.execute(sql`
    select ${returning} from messages where id = ${id} and organization_id = ${organizationId}`);
  const row = result.rows[0];
  return row ? messageFromRaw(row) : undefined;
}

/** The reply currently being generated in a session, if any (for clients resuming a stream). */
export async function findStreamingReply(db: Db, organizationId: string, chatSessionId: string) {
  const result = await db.execute(sql`
    select ${returning} from messages
    where chat_session_id = ${chatSessionId} and organization_id = ${organizationId}
      and role = 'ASSISTANT' and status = 'STREAMING'
    order by created_at desc, id desc limit 1`);
  const row = result.rows[0];
  return row ? messageFromRaw(row) : undefined;
}

/**
 * Closes replies whose generator died (isolate evicted mid-reply): STREAMING with no heartbeat for
 * `staleSeconds` becomes INCOMPLETE with the text it had. Returns how many were closed.
 */
export async function closeAbandonedReplies(db: Db, staleSeconds: number, limit: number) {
  const result = await db.execute(sql`
    update messages set status = 'INCOMPLETE', updated_at = now(),
      metadata = metadata || jsonb_build_object('error', jsonb_build_object('code', 'ABANDONED',
        'message', 'Generation stopped unexpectedly; the text is what had arrived.'))
    where id in (
      select id from messages where status = 'STREAMING'
        and updated_at < now() - make_interval(secs => ${staleSeconds})
      order by updated_at limit ${limit} for update skip locked)
    returning id`);
  return result.rows.length;
}
