import { sql } from 'drizzle-orm';
import { newId } from '../../ids';
import { wellFormed } from '../../text';
import type { Db } from '../client';
import { insertAttachmentChunks } from './attachment-chunks';
import { batchNamed } from './batch';
import { type IdempotencyClaim, type IdempotencyRecord, recordFromRaw } from './idempotency';
import {
  type HistoryMessage,
  type MessageRow,
  type MessageStatus,
  messageFromRow,
  type NewAttachment,
  type RawMessageRow,
  returning,
} from './message-rows';
import { dailyCap, historyFromRows, type TurnSession, turnReads } from './turn-reads';
import { insertAttachments, insertTurn, type TurnMessage } from './turn-store';
import { addUsage } from './usage';
import { outboxCte, replyCompletedPayload } from './webhook-outbox';

export type { TurnSession } from './turn-reads';

export type BeginTurnResult = {
  session: TurnSession | undefined;
  message: MessageRow | undefined;
  reply: MessageRow | undefined;
  /** Oldest first, ending with the new message. */
  history: HistoryMessage[];
  /** The record holding the Idempotency-Key, when one was sent (ours, or an earlier request's). */
  idempotency: IdempotencyRecord | undefined;
  /** Webhook events the statement wrote (message.created), for an immediate drain. */
  webhookEvents: number;
};

export type BeginTurnInput = {
  chatSessionId: string;
  message: TurnMessage;
  attachments: NewAttachment[];
  /** Id for the assistant placeholder; absent when no reply is generated. */
  replyId: string | undefined;
  historyLimit: number;
  /** Characters of history (messages and their attachments' text) worth reading: more never fits. */
  historyChars: number;
  /** Characters of each attachment's text worth reading: more can never fit in the context. */
  attachmentChars: number;
  /** Cap on model calls per organization per UTC day, unless the organization sets its own. */
  defaultDailyModelCalls: number;
  idempotency: IdempotencyClaim | undefined;
};

/** The statements of a turn's first round trip, by name, in the order they run. */
function turnStatements(db: Db, organizationId: string, input: BeginTurnInput) {
  const { message, attachments } = input;
  const cap = dailyCap(organizationId, input.defaultDailyModelCalls);
  const attachmentBytes = attachments.reduce((sum, a) => sum + a.byteSize, 0);
  // Issue 17: chunks of large attachments, for retrieval on this and later turns of the session.
  const chunked = attachments.filter((a) => a.chunks && a.chunks.length > 0);
  return {
    turn: insertTurn(db, organizationId, { ...input, attachmentBytes, attachmentCount: attachments.length }, cap),
    attachments: attachments.length ? insertAttachments(db, organizationId, message.id, attachments) : undefined,
    chunks: chunked.length ? insertAttachmentChunks(db, organizationId, message.id, chunked) : undefined,
    ...turnReads(db, organizationId, { ...input, anchorId: message.id }, cap),
  };
}

/**
 * The first round trip of a turn, as one transaction. One statement stores the message (and an
 * empty STREAMING placeholder for the reply, when one is wanted) only if the session is the
 * organization's, ACTIVE, its persona not deleted, the organization is under its daily model-call
 * cap (counted in the same statement), and the Idempotency-Key, if any, is not already held. The
 * attachments follow; then the session, persona, recent history and the key's record are read.
 * Nothing is written when the session cannot take the message.
 */
export async function beginTurn(db: Db, organizationId: string, input: BeginTurnInput): Promise<BeginTurnResult> {
  const results = await batchNamed(db, turnStatements(db, organizationId, input));
  const stored = (kind: 'message' | 'reply') => {
    const row = results.turn.rows.find((r) => r.kind === kind);
    return row ? messageFromRow(row) : undefined;
  };
  return {
    session: results.session[0],
    message: stored('message'),
    reply: stored('reply'),
    history: historyFromRows(results.history.rows),
    idempotency: recordFromRaw(results.key?.rows[0]),
    webhookEvents: results.turn.rows.reduce((n, r) => n + Number(r.webhook_events ?? 0), 0),
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
): Promise<{ reply: MessageRow | undefined; webhookEvents: number }> {
  const tokens = (input.metadata.usage ?? {}) as { inputTokens?: unknown; outputTokens?: unknown };
  const count = (n: unknown) => (typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : 0);
  const result = await db.execute<RawMessageRow & { webhook_events: number }>(sql`
    with before as (
      select status from messages where id = ${input.id} and organization_id = ${organizationId}
    ), done as (
      update messages set content = ${wellFormed(input.content)}, status = ${input.status},
        metadata = ${JSON.stringify(input.metadata)}::jsonb, updated_at = now()
      where id = ${input.id} and organization_id = ${organizationId}
      returning ${returning}
    ), usage as (
      -- Usage (issue 19): the reply and its tokens, once: not if a sweeper closed it meanwhile.
      ${addUsage(sql`
        select ${organizationId}::text, s.persona_id, 0, 0, 1, 0,
          ${count(tokens.inputTokens)}::bigint, ${count(tokens.outputTokens)}::bigint, 0
        from done join chat_sessions s on s.id = done.chat_session_id and s.organization_id = ${organizationId}
        where exists (select 1 from before where status in ('STREAMING', 'STOPPED'))`)}
    ), ${outboxCte('event', {
      id: newId('webhookEvent'),
      organizationId,
      type: 'reply.completed',
      from: sql`done`,
      // Once per reply, like its usage: not again if a sweeper had closed it meanwhile.
      when: sql`exists (select 1 from before where status in ('STREAMING', 'STOPPED'))`,
      payload: replyCompletedPayload(sql`done`, count(tokens.inputTokens), count(tokens.outputTokens)),
    })}
    select done.*, (select count(*)::int from event) as webhook_events from done`);
  const row = result.rows[0];
  return { reply: row ? messageFromRow(row) : undefined, webhookEvents: Number(row?.webhook_events ?? 0) };
}
