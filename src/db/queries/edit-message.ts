import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { batchNamed } from './batch';
import { type IdempotencyClaim, recordFromRaw } from './idempotency';
import { type MessageRow, messageFromRaw, messageFromRow, type RawMessageRow, returning } from './message-rows';
import { dailyCap, historyFromRows, turnReads } from './turn-reads';
import { admission } from './turn-store';
import type { BeginTurnInput, BeginTurnResult } from './turns';
import { addUsage } from './usage';

/**
 * Editing a user message (issue 16): the edit takes the message's place on a new branch. The
 * message and everything in use after it go out of use (superseded_at, hidden_by = the message:
 * they are the old branch, kept whole), and the edit gets a reply like a send.
 */

/** A reply in the session is being generated: its history would change under it. */
const sessionStreaming = (organizationId: string, m: SQL) => sql`exists (select 1 from messages r
  where r.chat_session_id = ${m}.chat_session_id and r.organization_id = ${organizationId} and r.status = 'STREAMING')`;

export type EditTarget = { message: MessageRow; inUse: boolean; streaming: boolean };

/** The message to edit, whether it is in use (on the active branch), and whether the session is streaming. */
function targetQuery(db: Db, organizationId: string, messageId: string) {
  return db.execute<RawMessageRow & { in_use: boolean; streaming: boolean }>(sql`
    select ${returning}, m.superseded_at is null as in_use, ${sessionStreaming(organizationId, sql`m`)} as streaming
    from messages m where m.id = ${messageId} and m.organization_id = ${organizationId}`);
}

function targetFromRows(rows: Record<string, unknown>[]): EditTarget | undefined {
  const row = rows[0];
  if (!row) return undefined;
  return { message: messageFromRaw(row), inUse: row.in_use === true, streaming: row.streaming === true };
}

export async function readEditTarget(db: Db, organizationId: string, messageId: string) {
  return targetFromRows((await targetQuery(db, organizationId, messageId)).rows);
}

export type EditInput = {
  chatSessionId: string;
  /** The USER message edited. */
  messageId: string;
  /** The edit's id and content. */
  editId: string;
  content: string;
  replyId: string;
  idempotency: IdempotencyClaim | undefined;
};

/**
 * One statement: the edit (a USER message at the edited one's fork, `edit_of_id`) and its
 * STREAMING reply, only if the session can take a turn (`admission`: active, persona kept, under
 * the daily cap, which it counts) and the message is a USER message in use with no reply in the
 * session being generated. The message and every message in use after it are put out of use in
 * the same statement; the counters follow (message count: messages in use; usage: a message and a
 * model call, like a send).
 */
function insertEdit(db: Db, organizationId: string, input: EditInput, cap: SQL<number>) {
  const also = sql`and exists (select 1 from messages u where u.id = ${input.messageId}
    and u.organization_id = ${organizationId} and u.chat_session_id = s.id and u.role = 'USER'
    and u.superseded_at is null and not ${sessionStreaming(organizationId, sql`u`)})`;
  const claimed = input.idempotency ? sql`exists (select 1 from claim)` : sql`true`;
  return db.execute<RawMessageRow & { kind: 'message' | 'reply' }>(sql`
    with ${admission(organizationId, input, cap, also)}, m as (
      select u.id, u.chat_session_id, u.created_at, coalesce(u.edit_of_id, u.id) as fork
      from messages u join allowed on allowed.id = u.chat_session_id
      where u.id = ${input.messageId} and u.organization_id = ${organizationId} and ${claimed}
    ), ins as (
      insert into messages (id, organization_id, chat_session_id, role, content, edit_of_id, created_at, updated_at)
      select ${input.editId}, ${organizationId}, m.chat_session_id, 'USER', ${input.content}, m.fork,
             clock_timestamp(), clock_timestamp()
      from m
      returning ${returning}
    ), reply as (
      insert into messages (id, organization_id, chat_session_id, role, content, status, reply_to_id, created_at, updated_at)
      select ${input.replyId}, ${organizationId}, ins.chat_session_id, 'ASSISTANT', '', 'STREAMING', ins.id,
             -- After its message even within one millisecond (created_at has ms precision, ids are random).
             ins.created_at + interval '1 millisecond', ins.created_at + interval '1 millisecond'
      from ins
      returning ${returning}
    ), hide as (
      update messages x set superseded_at = now(), hidden_by = m.id from m
      where x.organization_id = ${organizationId} and x.chat_session_id = m.chat_session_id
        and x.superseded_at is null and (x.created_at, x.id) >= (m.created_at, m.id)
      returning x.id
    ), bump as (
      update chat_sessions set message_count = message_count + 2 - (select count(*) from hide),
             last_activity_at = now(), updated_at = now()
      where id in (select chat_session_id from ins) and organization_id = ${organizationId}
      returning id
    ), usage as (
      -- Usage (issue 19): the edited message and its model call, like a send.
      ${addUsage(sql`
        select ${organizationId}::text, s.persona_id, 0, 1, 0, 1, 0, 0, 0
        from ins join chat_sessions s on s.id = ins.chat_session_id and s.organization_id = ${organizationId}`)}
    )
    select 'message' as kind, ins.* from ins
    union all
    select 'reply' as kind, reply.* from reply`);
}

export type BeginEditResult = BeginTurnResult & { target: EditTarget | undefined };

/**
 * An edit's first round trip, as one transaction: the statement above, then the session, the
 * history up to the edit (the messages in use before the edited one, and the edit), the key's
 * record, and the edited message (the reason when nothing was stored).
 */
export async function beginEdit(
  db: Db,
  organizationId: string,
  input: EditInput & Pick<BeginTurnInput, 'historyLimit' | 'historyChars' | 'attachmentChars'>,
  defaultDailyModelCalls: number,
): Promise<BeginEditResult> {
  const cap = dailyCap(organizationId, defaultDailyModelCalls);
  const results = await batchNamed(db, {
    stored: insertEdit(db, organizationId, input, cap),
    ...turnReads(db, organizationId, { ...input, anchorId: input.editId }, cap),
    target: targetQuery(db, organizationId, input.messageId),
  });
  const stored = results.stored.rows;
  const message = stored.find((r) => r.kind === 'message');
  const reply = stored.find((r) => r.kind === 'reply');
  return {
    session: results.session[0],
    message: message ? messageFromRow(message) : undefined,
    reply: reply ? messageFromRow(reply) : undefined,
    history: message ? historyFromRows(results.history.rows) : [],
    idempotency: recordFromRaw(results.key?.rows[0]),
    webhookEvents: 0,
    target: targetFromRows(results.target.rows),
  };
}
