import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import type { MessageStatus } from './message-rows';

/**
 * The versions of a message's reply (chat.regenerate makes them): every ASSISTANT reply to the
 * USER message, oldest first; the one in use has `superseded_at` null.
 */

export type ReplyVersionRow = {
  message_id: string;
  id: string | null;
  status: MessageStatus | null;
  content: string | null;
  created_at: Date | string | null;
  in_use: boolean | null;
};

/**
 * The versions of the reply to `messageId` (a USER message, or one of its replies), in one query.
 * No row when the message is not the organization's; one row with a null id when it has no reply.
 */
export async function listReplyVersions(db: Db, organizationId: string, messageId: string) {
  const result = await db.execute<ReplyVersionRow>(sql`
    with x as (
      select m.chat_session_id,
        case when m.role = 'ASSISTANT' and m.reply_to_id is not null then m.reply_to_id else m.id end as message_id
      from messages m where m.id = ${messageId} and m.organization_id = ${organizationId}
    )
    select x.message_id, r.id, r.status, r.content, r.created_at, r.superseded_at is null as in_use
    from x left join messages r on r.chat_session_id = x.chat_session_id and r.organization_id = ${organizationId}
      and r.reply_to_id = x.message_id and r.role = 'ASSISTANT'
    order by r.created_at, r.id`);
  return result.rows;
}

/**
 * Puts reply `replyId` in use and the other versions out of use, in one statement, unless a reply
 * to the same message is being generated (`streaming`). The session's message count follows (it
 * counts messages in use). Returns the versions as they are after the change; no row when
 * `replyId` is not a reply of the organization.
 */
export async function selectReplyVersion(db: Db, organizationId: string, replyId: string) {
  const result = await db.execute<ReplyVersionRow & { streaming: boolean; chat_session_id: string }>(sql`
    with t as (
      select m.id, m.reply_to_id, m.chat_session_id, m.superseded_at,
        exists (select 1 from messages r where r.chat_session_id = m.chat_session_id
          and r.organization_id = ${organizationId} and r.reply_to_id = m.reply_to_id and r.status = 'STREAMING') as streaming
      from messages m
      where m.id = ${replyId} and m.organization_id = ${organizationId} and m.role = 'ASSISTANT'
        and m.reply_to_id is not null
    ), others as (
      update messages m set superseded_at = now() from t
      where m.organization_id = ${organizationId} and m.chat_session_id = t.chat_session_id
        and m.reply_to_id = t.reply_to_id and m.role = 'ASSISTANT' and m.id <> t.id
        and m.superseded_at is null and not t.streaming
      returning m.id
    ), chosen as (
      update messages m set superseded_at = null from t
      where m.id = t.id and m.organization_id = ${organizationId} and t.superseded_at is not null and not t.streaming
      returning m.id
    ), bump as (
      update chat_sessions s set message_count = greatest(0, message_count
          + (select count(*) from chosen) - (select count(*) from others)), updated_at = now()
      from t where s.id = t.chat_session_id and s.organization_id = ${organizationId}
        and (exists (select 1 from chosen) or exists (select 1 from others))
      returning s.id
    )
    select t.reply_to_id as message_id, t.chat_session_id, t.streaming, r.id, r.status, r.content, r.created_at,
      case when t.streaming then r.superseded_at is null else r.id = t.id end as in_use
    from t join messages r on r.chat_session_id = t.chat_session_id and r.organization_id = ${organizationId}
      and r.reply_to_id = t.reply_to_id and r.role = 'ASSISTANT'
    order by r.created_at, r.id`);
  return result.rows;
}
