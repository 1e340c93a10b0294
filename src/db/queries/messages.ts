import { and, eq, sql } from 'drizzle-orm';
import { newId } from '../../ids';
import { wellFormed } from '../../text';
import type { Db } from '../client';
import { messages } from '../schema';
import { type MessageRow, messageFromRaw, messageFromRow, type RawMessageRow, returning } from './message-rows';
import { attachmentsJson, messageColumns } from './projections';
import { addUsage } from './usage';
import { eventIdSql, outboxCte, replyCompletedPayload } from './webhook-outbox';

// The message shapes live in message-rows.ts (shared with turns.ts); callers keep importing them from here.
export {
  type HistoryAttachment,
  type HistoryMessage,
  type MessageRole,
  type MessageRow,
  type MessageStatus,
  messageFromRaw,
  type NewAttachment,
} from './message-rows';

/** Bytes of message text and metadata one listMessages page holds at most (plus one message). */
export const LIST_PAGE_BYTES = 4 * 1024 * 1024;

/**
 * Messages of a session, oldest first, keyset-paginated after the message id `cursor`; a page
 * ends at `limit` messages or LIST_PAGE_BYTES, whichever comes first.
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
      ${attachmentsJson(organizationId)} as attachments
    from chat_sessions s
    left join lateral (
      select * from (
        select m.*, sum(octet_length(m.content) + octet_length(m.metadata::text))
                      over (order by m.created_at, m.id rows unbounded preceding) as page_bytes,
               octet_length(m.content) + octet_length(m.metadata::text) as row_bytes
        from messages m
        where m.chat_session_id = s.id and m.organization_id = ${organizationId} ${after}
          -- Only the reply versions in use (chat.listReplyVersions shows the others).
          and m.superseded_at is null
        order by m.created_at, m.id
        limit ${input.limit}
      ) w
      -- The page ends once it holds LIST_PAGE_BYTES (the first row always fits): a page stays far
      -- below the 10 MiB Neon answers at most, whatever the messages' sizes.
      where w.page_bytes - w.row_bytes < ${LIST_PAGE_BYTES}
    ) m on true
    where s.id = ${input.chatSessionId} and s.organization_id = ${organizationId}
    order by m.created_at, m.id`);
  if (result.rows.length === 0) return undefined;
  return result.rows.filter((r) => r.id !== null).map(messageFromRaw);
}

/** Marks a reply being generated as STOPPED; the generator notices and keeps what it has. */
export async function markReplyStopped(db: Db, organizationId: string, id: string) {
  const result = await db.execute<RawMessageRow & { changed: boolean }>(sql`
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
  return row ? { changed: row.changed, message: messageFromRow(row) } : undefined;
}

/** One message of the organization, or undefined. */
export async function getMessage(db: Db, organizationId: string, id: string): Promise<MessageRow | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .where(and(eq(messages.id, id), eq(messages.organizationId, organizationId)));
  return row;
}

const abandoned = (message: string) =>
  sql`jsonb_build_object('error', jsonb_build_object('code', 'ABANDONED', 'message', ${message}::text))`;

/**
 * Closes a reply whose session object died mid-turn: INCOMPLETE, with the text the object had
 * saved, unless it was finished meanwhile. Returns whether it was still STREAMING.
 */
export async function closeOrphanedReply(db: Db, organizationId: string, id: string, text: string) {
  const result = await db.execute(sql`
    with closed as (
      update messages set status = 'INCOMPLETE', content = ${wellFormed(text)}, updated_at = now(),
        metadata = metadata || ${abandoned('Generation stopped unexpectedly (the session was restarted); the text is what had been generated.')}
      where id = ${id} and organization_id = ${organizationId} and status = 'STREAMING'
      returning id, chat_session_id, reply_to_id, status, content, updated_at
    ), usage as (${addUsage(sql`
      select ${organizationId}::text, s.persona_id, 0, 0, 1, 0, 0, 0, 0
      from closed join chat_sessions s on s.id = closed.chat_session_id and s.organization_id = ${organizationId}`)}),
    ${outboxCte('event', {
      id: newId('webhookEvent'),
      organizationId,
      type: 'reply.completed',
      from: sql`closed`,
      payload: replyCompletedPayload(sql`closed`, 0, 0),
    })}
    select id from closed`);
  return result.rows.length > 0;
}

/** STREAMING replies older than `staleSeconds`, for the cron sweeper to check with their objects. */
export async function findStaleStreamingReplies(db: Db, staleSeconds: number, limit: number) {
  const result = await db.execute<{ id: string; organization_id: string; chat_session_id: string }>(sql`
    select id, organization_id, chat_session_id from messages
    where status = 'STREAMING' and updated_at < now() - make_interval(secs => ${staleSeconds})
    order by updated_at limit ${limit}`);
  return result.rows.map((r) => ({ id: r.id, organizationId: r.organization_id, chatSessionId: r.chat_session_id }));
}

/** Closes the given replies (INCOMPLETE, text kept) if still STREAMING. Returns how many were closed. */
export async function closeAbandonedReplies(db: Db, ids: string[]) {
  if (ids.length === 0) return 0;
  const result = await db.execute(sql`
    with closed as (
      update messages set status = 'INCOMPLETE', updated_at = now(),
        metadata = metadata || ${abandoned('Generation stopped unexpectedly; the text is what had arrived.')}
      where id in (
        select id from messages where status = 'STREAMING'
          and id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))
        for update skip locked)
      returning id, organization_id, chat_session_id, reply_to_id, status, content, updated_at
    ), usage as (${addUsage(sql`
      select closed.organization_id, s.persona_id, 0, 0, count(*)::int, 0, 0, 0, 0
      from closed join chat_sessions s on s.id = closed.chat_session_id and s.organization_id = closed.organization_id
      group by closed.organization_id, s.persona_id`)}),
    ${outboxCte('event', {
      id: eventIdSql,
      organizationId: sql`closed.organization_id`,
      type: 'reply.completed',
      from: sql`closed`,
      payload: replyCompletedPayload(sql`closed`, 0, 0),
    })}
    select id from closed`);
  return result.rows.length;
}

/**
 * Deletes one message for good, with its replies when it is a user message (their attachments and
 * ratings go with them through ON DELETE CASCADE), and takes them off the session's message count,
 * in one statement. Nothing is deleted while the message or one of its replies is being generated
 * (`streaming`). Later turns read their history from the table, so the model no longer sees them.
 * `found` is false for an id that is not the organization's.
 */
export async function deleteMessageWithReplies(
  db: Db,
  organizationId: string,
  id: string,
): Promise<{ found: boolean; streaming: boolean; chatSessionId: string | null; deletedIds: string[] }> {
  const result = await db.execute<{
    found: boolean;
    streaming: boolean;
    chat_session_id: string | null;
    // JSON arrives parsed from Neon, as text from some drivers.
    deleted_ids: string[] | string;
  }>(sql`
    with target as (
      select m.id, m.chat_session_id, m.role from messages m
      where m.id = ${id} and m.organization_id = ${organizationId}
    ), doomed as (
      select m.id, m.status from messages m join target t on m.chat_session_id = t.chat_session_id
      where m.organization_id = ${organizationId}
        and (m.id = t.id or (t.role = 'USER' and m.reply_to_id = t.id and m.role = 'ASSISTANT'))
    ), removed as (
      delete from messages
      where organization_id = ${organizationId} and id in (select id from doomed)
        and not exists (select 1 from doomed where status = 'STREAMING')
      returning id, superseded_at
    ), bump as (
      -- The count holds messages in use only: reply versions not in use were never in it.
      update chat_sessions set message_count = greatest(0, message_count -
          (select count(*) from removed where superseded_at is null)),
        updated_at = now()
      where id = (select chat_session_id from target) and organization_id = ${organizationId}
        and exists (select 1 from removed)
      returning id
    )
    select exists (select 1 from target) as found,
      exists (select 1 from doomed where status = 'STREAMING') as streaming,
      (select chat_session_id from target) as chat_session_id,
      coalesce((select json_agg(id) from removed), '[]'::json) as deleted_ids`);
  const row = result.rows[0];
  const ids =
    typeof row?.deleted_ids === 'string' ? (JSON.parse(row.deleted_ids) as string[]) : (row?.deleted_ids ?? []);
  return {
    found: row?.found === true,
    streaming: row?.streaming === true,
    chatSessionId: row?.chat_session_id ?? null,
    deletedIds: ids,
  };
}
