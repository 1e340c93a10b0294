import { sql } from 'drizzle-orm';
import type { HistoryMessage } from '../../ai/prompt';
import { wellFormed } from '../../text';
import { batchRaw, type Db } from '../client';
import { insertAttachmentChunks } from './attachment-chunks';
import { claimKey, type IdempotencyClaim, type IdempotencyRecord, readKey, recordFromRaw } from './idempotency';
import { type MessageRole, type MessageRow, type MessageStatus, messageFromRaw, returning } from './messages';
import type { Chunk } from './sources';
import { addUsage } from './usage';

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
  /** Chunks of a large attachment, stored for retrieval (issue 17); absent for small ones. */
  chunks?: Chunk[];
};

/** What the turn's first round trip learns about the session and its persona. */
export type TurnSession = {
  status: 'ACTIVE' | 'ARCHIVED';
  messageCount: number;
  personaDeleted: boolean;
  /** Model calls the organization made today (UTC) and its daily cap. */
  modelCallsToday: number;
  dailyModelCallCap: number;
  /** The persona has READY knowledge sources (issue 17): only then does a turn search them. */
  hasKnowledge: boolean;
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
  /** The record holding the Idempotency-Key, when one was sent (ours, or an earlier request's). */
  idempotency: IdempotencyRecord | undefined;
};

export type BeginTurnInput = {
  chatSessionId: string;
  message: { id: string; role: MessageRole; content: string; metadata: Record<string, unknown> };
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

/**
 * The first round trip of a turn, as one transaction. One statement stores the message (and an
 * empty STREAMING placeholder for the reply, when one is wanted) only if the session is the
 * organization's, ACTIVE, its persona not deleted, the organization is under its daily model-call
 * cap (counted in the same statement), and the Idempotency-Key, if any, is not already held. The
 * attachments follow; then the session, persona, recent history and the key's record are read.
 * Nothing is written when the session cannot take the message.
 */
export async function beginTurn(db: Db, organizationId: string, input: BeginTurnInput): Promise<BeginTurnResult> {
  const { chatSessionId, message, replyId, idempotency } = input;
  const wantsReply = replyId !== undefined;
  const added = wantsReply ? 2 : 1;
  const key = idempotency?.key ?? null;
  const claim = idempotency ? sql`, claim as (${claimKey(organizationId, idempotency, sql`allowed`)})` : sql``;
  const claimed = idempotency ? sql`exists (select 1 from claim)` : sql`true`;
  const cap = sql`(select coalesce(o.daily_model_call_cap, ${input.defaultDailyModelCalls}) from organizations o where o.id = ${organizationId})`;
  const attachmentBytes = input.attachments.reduce((sum, a) => sum + a.byteSize, 0);
  const insertTurn = db.execute(sql`
    with target as (
      select s.id from chat_sessions s
      join personas p on p.id = s.persona_id and p.organization_id = ${organizationId}
      where s.id = ${chatSessionId} and s.organization_id = ${organizationId}
        and s.status = 'ACTIVE' and p.deleted_at is null
      -- Locks the session row for this statement: a concurrent archival waits or skips it, and
      -- concurrent sends to the session take turns instead of deadlocking on the counter update.
      for no key update of s
    ), held as (
      select 1 from idempotency_keys k
      where ${key}::text is not null and k.organization_id = ${organizationId} and k.key = ${key}
        and k.expires_at >= now()
    ), quota as (
      insert into usage_counters (organization_id, day, model_calls)
      select ${organizationId}, (now() at time zone 'utc')::date, 1 from target
      where ${wantsReply} and not exists (select 1 from held) and ${cap} > 0
      on conflict (organization_id, day) do update set model_calls = usage_counters.model_calls + 1
        where usage_counters.model_calls < ${cap}
      returning model_calls
    ), allowed as (
      select target.id from target where not ${wantsReply} or exists (select 1 from quota)
    )${claim}, ins as (
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
      update chat_sessions set message_count = message_count + ${added},
             last_activity_at = now(), updated_at = now()
      where id in (select chat_session_id from ins) and organization_id = ${organizationId}
      returning id
    ), usage as (
      -- Usage (issue 19): the message, its model call and its attachments' bytes, for the
      -- session's persona, counted only if the message is stored.
      ${addUsage(sql`
        select ${organizationId}::text, s.persona_id, 0, 1, 0, ${wantsReply ? 1 : 0}::int, 0, 0, ${attachmentBytes}::bigint
        from ins join chat_sessions s on s.id = ins.chat_session_id and s.organization_id = ${organizationId}`)}
    )
    select 'message' as kind, ins.* from ins
    union all
    select 'reply' as kind, reply.* from reply`);
  const insertAttachments = db.execute(sql`
    insert into attachments (id, organization_id, message_id, filename, declared_type, detected_type,
      byte_size, sha256, page_count, char_count, text, truncated, has_text, created_at)
    select x.id, ${organizationId}, ${message.id}, x.filename, x.declared_type, x.detected_type,
      x.byte_size, x.sha256, x.page_count, x.char_count, x.text, x.truncated, x.has_text,
      -- Ids made in one millisecond are in random order, and created_at has millisecond precision:
      -- the attachments' order is carried by created_at, one millisecond apart.
      now() + x.position * interval '1 millisecond'
    from jsonb_to_recordset(${JSON.stringify(
      input.attachments.map((a, position) => ({
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
      })),
    )}::jsonb) as x(id text, filename text, declared_type text, detected_type text, byte_size int,
      sha256 text, page_count int, char_count int, text text, truncated boolean, has_text boolean, position int)
    where exists (select 1 from messages m where m.id = ${message.id} and m.organization_id = ${organizationId})`);
  // Issue 17: chunks of large attachments, for retrieval on this and later turns of the session.
  const chunked = input.attachments.filter((a) => a.chunks && a.chunks.length > 0);
  const insertChunks = chunked.length ? insertAttachmentChunks(db, organizationId, message.id, chunked) : undefined;
  const readSession = db.execute(sql`
    select s.status, s.message_count, p.deleted_at is not null as persona_deleted,
      p.id as persona_id, p.name, p.instructions, p.model, p.temperature, p.max_output_tokens, p.version,
      coalesce((select u.model_calls from usage_counters u where u.organization_id = ${organizationId}
                and u.day = (now() at time zone 'utc')::date), 0) as model_calls_today,
      ${cap} as daily_model_call_cap,
      -- Knowledge (issue 17): whether this turn needs a retrieval round trip at all: the persona
      -- has READY sources, or the session has chunked attachments.
      (exists (select 1 from knowledge_sources k where k.organization_id = ${organizationId}
              and k.persona_id = p.id and k.status = 'READY')
        or exists (select 1 from knowledge_chunks c where c.organization_id = ${organizationId}
              and c.chat_session_id = s.id)) as has_knowledge
    from chat_sessions s
    join personas p on p.id = s.persona_id and p.organization_id = ${organizationId}
    where s.id = ${chatSessionId} and s.organization_id = ${organizationId}`);
  // Newest first, sized in SQL (message text plus each attachment's text as far as it can be
  // read), cut where the running size passes what the budget can take: the Worker never receives
  // more history than fits, however long or heavy the session is. The message that crosses the
  // line is still read, so the prompt can include or note it.
  const readHistory = db.execute(sql`
    with recent as (
      select m.id, m.created_at,
        length(m.content) + coalesce((
          select sum(least(a.char_count, ${input.attachmentChars})) from attachments a
          where a.message_id = m.id and a.organization_id = ${organizationId}), 0) as size
      from messages m
      where m.chat_session_id = ${chatSessionId} and m.organization_id = ${organizationId}
        and m.status <> 'STREAMING'
        and (m.created_at, m.id) <= (select created_at, id from messages
                                     where id = ${message.id} and organization_id = ${organizationId})
      order by m.created_at desc, m.id desc
      limit ${input.historyLimit}
    ), sized as (
      select r.id, r.created_at,
        sum(r.size) over (order by r.created_at desc, r.id desc rows unbounded preceding) - r.size as before
      from recent r
    )
    select m.id, m.role, m.content, m.status,
      coalesce((
        select json_agg(json_build_object('id', a.id, 'filename', a.filename,
          'text', left(a.text, ${input.attachmentChars}), 'storedChars', length(a.text),
          'hasText', a.has_text, 'truncated', a.truncated, 'pageCount', a.page_count)
          order by a.created_at, a.id)
        from attachments a where a.message_id = m.id and a.organization_id = ${organizationId}
      ), '[]'::json) as attachments
    from sized
    join messages m on m.id = sized.id and m.organization_id = ${organizationId}
    where sized.before < ${input.historyChars}
    order by sized.created_at desc, sized.id desc`);

  const statements = [insertTurn];
  if (input.attachments.length) statements.push(insertAttachments);
  if (insertChunks) statements.push(insertChunks); // issue 17
  statements.push(readSession, readHistory);
  if (idempotency) statements.push(readKey(db, organizationId, idempotency.key));
  const results = await batchRaw(db, statements);
  const turnRows = results[0]?.rows ?? [];
  const offset = 1 + (input.attachments.length ? 1 : 0) + (insertChunks ? 1 : 0);
  const sessionRow = results[offset]?.rows[0];
  const historyRows = results[offset + 1]?.rows ?? [];
  const keyRow = idempotency ? results[offset + 2]?.rows[0] : undefined;

  const stored = turnRows.find((r) => r.kind === 'message');
  const reply = turnRows.find((r) => r.kind === 'reply');
  return {
    session: sessionRow
      ? {
          status: sessionRow.status as TurnSession['status'],
          messageCount: Number(sessionRow.message_count),
          personaDeleted: sessionRow.persona_deleted === true,
          modelCallsToday: Number(sessionRow.model_calls_today),
          dailyModelCallCap: Number(sessionRow.daily_model_call_cap),
          hasKnowledge: sessionRow.has_knowledge === true,
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
    idempotency: recordFromRaw(keyRow),
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
  const tokens = (input.metadata.usage ?? {}) as { inputTokens?: unknown; outputTokens?: unknown };
  const count = (n: unknown) => (typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : 0);
  const result = await db.execute(sql`
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
    )
    select * from done`);
  const row = result.rows[0];
  return row ? messageFromRaw(row) : undefined;
}
