import { type SQL, sql } from 'drizzle-orm';
import { newId } from '../../ids';
import { wellFormed } from '../../text';
import type { Db } from '../client';
import { claimKey, type IdempotencyClaim, keyHeld } from './idempotency';
import { type MessageRole, type NewAttachment, type RawMessageRow, returning } from './message-rows';
import { addUsage } from './usage';
import { outboxCte } from './webhook-outbox';

/** The writes of a turn's first round trip (turns.ts runs them in one batch with its reads). */

export type TurnMessage = { id: string; role: MessageRole; content: string; metadata: Record<string, unknown> };

type StoreInput = {
  chatSessionId: string;
  message: TurnMessage;
  /** Id for the assistant placeholder; absent when no reply is generated. */
  replyId: string | undefined;
  attachmentBytes: number;
  /** Files attached to the message (the message.created event says how many). */
  attachmentCount: number;
  idempotency: IdempotencyClaim | undefined;
};

/**
 * CTEs `target`, `held`, `quota`, `allowed` (and `claim`): the session is the organization's,
 * ACTIVE, its persona not deleted, the organization under its daily model-call cap (counted here),
 * and the Idempotency-Key, if any, not already held. `allowed` has a row only then. `also`: a
 * further condition on the session `s` (a regeneration's, src/db/queries/regenerate.ts).
 */
export function admission(
  organizationId: string,
  input: Pick<StoreInput, 'chatSessionId' | 'replyId' | 'idempotency'>,
  cap: SQL<number>,
  also: SQL = sql``,
): SQL {
  const wantsReply = input.replyId !== undefined;
  const claim = input.idempotency
    ? sql`, claim as (${claimKey(organizationId, input.idempotency, sql`allowed`)})`
    : sql``;
  return sql`
    target as (
      select s.id from chat_sessions s
      join personas p on p.id = s.persona_id and p.organization_id = ${organizationId}
      where s.id = ${input.chatSessionId} and s.organization_id = ${organizationId}
        and s.status = 'ACTIVE' and p.deleted_at is null ${also}
      -- Locks the session row for this statement: a concurrent archival waits or skips it, and
      -- concurrent sends to the session take turns instead of deadlocking on the counter update.
      for no key update of s
    ), held as (${keyHeld(organizationId, input.idempotency?.key ?? null)}
    ), quota as (
      insert into usage_counters (organization_id, day, model_calls)
      select ${organizationId}, (now() at time zone 'utc')::date, 1 from target
      where ${wantsReply} and not exists (select 1 from held) and ${cap} > 0
      on conflict (organization_id, day) do update set model_calls = usage_counters.model_calls + 1
        where usage_counters.model_calls < ${cap}
      returning model_calls
    ), allowed as (
      select target.id from target where not ${wantsReply} or exists (select 1 from quota)
    )${claim}`;
}

/** CTEs `ins`, `reply`, `bump`, `usage`: the message, its reply placeholder, the session's counters, usage. */
function storage(organizationId: string, input: StoreInput): SQL {
  const { message, replyId } = input;
  const wantsReply = replyId !== undefined;
  const claimed = input.idempotency ? sql`exists (select 1 from claim)` : sql`true`;
  return sql`
    ins as (
      insert into messages (id, organization_id, chat_session_id, role, content, metadata)
      select ${message.id}, ${organizationId}, allowed.id, ${message.role}, ${message.content},
             ${JSON.stringify(message.metadata)}::jsonb
      from allowed where ${claimed}
      returning ${returning}
    ), reply as (
      insert into messages (id, organization_id, chat_session_id, role, content, status, reply_to_id, created_at, updated_at)
      select ${replyId ?? null}, ${organizationId}, ins.chat_session_id, 'ASSISTANT', '', 'STREAMING', ins.id,
             -- After its message even within one millisecond (created_at has ms precision, ids are random).
             greatest(clock_timestamp(), now() + interval '1 millisecond'),
             greatest(clock_timestamp(), now() + interval '1 millisecond')
      from ins where ${wantsReply}
      returning ${returning}
    ), bump as (
      update chat_sessions set message_count = message_count + ${wantsReply ? 2 : 1},
             last_activity_at = now(), updated_at = now()
      where id in (select chat_session_id from ins) and organization_id = ${organizationId}
      returning id
    ), usage as (
      -- Usage (issue 19): the message, its model call and its attachments' bytes, for the
      -- session's persona, counted only if the message is stored.
      ${addUsage(sql`
        select ${organizationId}::text, s.persona_id, 0, 1, 0, ${wantsReply ? 1 : 0}::int, 0, 0, ${input.attachmentBytes}::bigint
        from ins join chat_sessions s on s.id = ins.chat_session_id and s.organization_id = ${organizationId}`)}
    ), ${outboxCte('msgev', {
      id: newId('webhookEvent'),
      organizationId,
      type: 'message.created',
      from: sql`ins`,
      when: sql`ins.role = 'USER'`,
      payload: sql`jsonb_build_object('sessionId', ins.chat_session_id, 'message', jsonb_build_object('id', ins.id,
        'role', ins.role, 'content', ins.content, 'metadata', ins.metadata, 'createdAt', ins.created_at),
        'attachments', ${input.attachmentCount}::int)`,
    })}`;
}

/**
 * One statement that stores the message (and an empty STREAMING placeholder for the reply, when
 * one is wanted) only if the session can take it now (see `admission`); nothing is written otherwise.
 * Returns the stored rows, each tagged `message` or `reply`.
 */
export function insertTurn(db: Db, organizationId: string, input: StoreInput, cap: SQL<number>) {
  return db.execute<RawMessageRow & { kind: 'message' | 'reply'; webhook_events: number }>(sql`
    with ${admission(organizationId, input, cap)}, ${storage(organizationId, input)}
    select 'message' as kind, ins.*, (select count(*)::int from msgev) as webhook_events from ins
    union all
    select 'reply' as kind, reply.*, 0 from reply`);
}

/** The message's attachments, stored only if the message was (same organization). */
export function insertAttachments(db: Db, organizationId: string, messageId: string, attachments: NewAttachment[]) {
  const rows = attachments.map((a, position) => ({
    position,
    id: a.id,
    filename: a.filename,
    declared_type: a.declaredType,
    detected_type: a.detectedType,
    byte_size: a.byteSize,
    sha256: a.sha256,
    page_count: a.pageCount,
    char_count: a.charCount,
    text: wellFormed(a.text),
    truncated: a.truncated,
    has_text: a.hasText,
    index_status: a.indexLater ? 'PENDING' : null,
  }));
  return db.execute(sql`
    insert into attachments (id, organization_id, message_id, filename, declared_type, detected_type,
      byte_size, sha256, page_count, char_count, text, truncated, has_text, index_status, created_at)
    select x.id, ${organizationId}, ${messageId}, x.filename, x.declared_type, x.detected_type,
      x.byte_size, x.sha256, x.page_count, x.char_count, x.text, x.truncated, x.has_text, x.index_status,
      -- Ids made in one millisecond are in random order, and created_at has millisecond precision:
      -- the attachments' order is carried by created_at, one millisecond apart.
      now() + x.position * interval '1 millisecond'
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id text, filename text, declared_type text,
      detected_type text, byte_size int, sha256 text, page_count int, char_count int, text text, truncated boolean,
      has_text boolean, index_status text, position int)
    where exists (select 1 from messages m where m.id = ${messageId} and m.organization_id = ${organizationId})`);
}
