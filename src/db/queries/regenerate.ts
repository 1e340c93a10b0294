import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { batchNamed } from './batch';
import { type IdempotencyClaim, recordFromRaw } from './idempotency';
import { type MessageRow, messageFromRaw, messageFromRow, type RawMessageRow, returning } from './message-rows';
import { attachmentsJson } from './projections';
import { dailyCap, historyFromRows, turnReads } from './turn-reads';
import { admission } from './turn-store';
import type { BeginTurnInput, BeginTurnResult } from './turns';
import { addUsage } from './usage';

/**
 * Regenerating a reply (issue 16): a new reply to a user message already answered. Replies to one
 * message are its versions; the one in use has `superseded_at` null, and only it is history.
 */

/** No USER message in use (on the active branch) comes after message `m` (only the last one's reply is regenerated). */
const isLast = (organizationId: string, m: SQL) => sql`not exists (select 1 from messages l
  where l.chat_session_id = ${m}.chat_session_id and l.organization_id = ${organizationId} and l.role = 'USER'
    and l.superseded_at is null and (l.created_at, l.id) > (${m}.created_at, ${m}.id))`;

/** A reply to message `m` is being generated. */
const streaming = (organizationId: string, m: SQL) => sql`exists (select 1 from messages r
  where r.chat_session_id = ${m}.chat_session_id and r.organization_id = ${organizationId}
    and r.reply_to_id = ${m}.id and r.status = 'STREAMING')`;

export type RegenerationTarget = { message: MessageRow; isLast: boolean; streaming: boolean };

/**
 * The message whose reply `messageId` names: the message itself, or for a reply the message it
 * answers, with its attachments, whether it is the session's last USER message, and whether a
 * reply to it is being generated. Undefined when it is not the organization's.
 */
function targetQuery(db: Db, organizationId: string, messageId: string) {
  return db.execute<RawMessageRow & { attachments: unknown; is_last: boolean; streaming: boolean }>(sql`
    select m.id, m.chat_session_id, m.role, m.content, m.status, m.metadata, m.reply_to_id, m.created_at, m.updated_at,
      ${attachmentsJson(organizationId)} as attachments,
      ${isLast(organizationId, sql`m`)} as is_last, ${streaming(organizationId, sql`m`)} as streaming
    from messages x
    join messages m on m.organization_id = ${organizationId}
      and m.id = case when x.role = 'ASSISTANT' and x.reply_to_id is not null then x.reply_to_id else x.id end
    where x.id = ${messageId} and x.organization_id = ${organizationId}`);
}

function targetFromRows(rows: Record<string, unknown>[]): RegenerationTarget | undefined {
  const row = rows[0];
  if (!row) return undefined;
  return { message: messageFromRaw(row), isLast: row.is_last === true, streaming: row.streaming === true };
}

export async function readRegenerationTarget(db: Db, organizationId: string, messageId: string) {
  return targetFromRows((await targetQuery(db, organizationId, messageId)).rows);
}

type RegenerationInput = {
  chatSessionId: string;
  /** The USER message answered again. */
  messageId: string;
  replyId: string;
  idempotency: IdempotencyClaim | undefined;
};

/**
 * One statement: a new STREAMING reply to the message, only if the session can take a turn (see
 * `admission`: active, persona kept, under the daily cap, which it counts) and the message is its
 * last USER message with no reply being generated. The version in use until now is superseded in
 * the same statement; the message count (messages in use) changes only if none was in use.
 */
function insertRegeneration(db: Db, organizationId: string, input: RegenerationInput, cap: SQL<number>) {
  const also = sql`and exists (select 1 from messages u where u.id = ${input.messageId}
    and u.organization_id = ${organizationId} and u.chat_session_id = s.id and u.role = 'USER'
    and u.superseded_at is null and ${isLast(organizationId, sql`u`)} and not ${streaming(organizationId, sql`u`)})`;
  const claimed = input.idempotency ? sql`exists (select 1 from claim)` : sql`true`;
  return db.execute<RawMessageRow>(sql`
    with ${admission(organizationId, input, cap, also)}, reply as (
      insert into messages (id, organization_id, chat_session_id, role, content, status, reply_to_id, created_at, updated_at)
      select ${input.replyId}, ${organizationId}, allowed.id, 'ASSISTANT', '', 'STREAMING', ${input.messageId},
             clock_timestamp(), clock_timestamp()
      from allowed where ${claimed}
      returning ${returning}
    ), old as (
      update messages set superseded_at = now()
      where organization_id = ${organizationId} and chat_session_id in (select chat_session_id from reply)
        and reply_to_id = ${input.messageId} and role = 'ASSISTANT' and superseded_at is null
      returning id
    ), bump as (
      update chat_sessions set message_count = message_count + 1 - (select count(*) from old),
             last_activity_at = now(), updated_at = now()
      where id in (select chat_session_id from reply) and organization_id = ${organizationId}
      returning id
    ), usage as (
      -- Usage (issue 19): the model call; the reply and its tokens are counted when it is saved.
      ${addUsage(sql`
        select ${organizationId}::text, s.persona_id, 0, 0, 0, 1, 0, 0, 0
        from reply join chat_sessions s on s.id = reply.chat_session_id and s.organization_id = ${organizationId}`)}
    )
    select reply.* from reply`);
}

export type BeginRegenerationResult = BeginTurnResult & { target: RegenerationTarget | undefined };

/**
 * A regeneration's first round trip, as one transaction: the statement above, then the session,
 * the history up to the message (without the version just superseded), the key's record, and the
 * message (the reason when nothing was stored).
 */
export async function beginRegeneration(
  db: Db,
  organizationId: string,
  input: RegenerationInput & Pick<BeginTurnInput, 'historyLimit' | 'historyChars' | 'attachmentChars'>,
  defaultDailyModelCalls: number,
): Promise<BeginRegenerationResult> {
  const cap = dailyCap(organizationId, defaultDailyModelCalls);
  const results = await batchNamed(db, {
    reply: insertRegeneration(db, organizationId, input, cap),
    ...turnReads(db, organizationId, { ...input, anchorId: input.messageId }, cap),
    target: targetQuery(db, organizationId, input.messageId),
  });
  const target = targetFromRows(results.target.rows);
  const reply = results.reply.rows[0];
  return {
    session: results.session[0],
    message: target?.message,
    reply: reply ? messageFromRow(reply) : undefined,
    history: historyFromRows(results.history.rows),
    idempotency: recordFromRaw(results.key?.rows[0]),
    webhookEvents: 0,
    target,
  };
}
