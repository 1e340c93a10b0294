import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { chatSessions, personas } from '../schema';
import { readKey } from './idempotency';
import type { HistoryAttachment, HistoryMessage, MessageRole, MessageStatus } from './message-rows';

/**
 * The reads of a turn's first round trip, run after its writes in the same batch (turns.ts):
 * the session with its persona and quota, and the history the prompt can use.
 */

/** The organization's cap on model calls per UTC day: its own, or the deployment's default. */
export function dailyCap(organizationId: string, defaultDailyModelCalls: number): SQL<number> {
  return sql<number>`(select coalesce(o.daily_model_call_cap, ${defaultDailyModelCalls}) from organizations o where o.id = ${organizationId})`;
}

/** The session, its persona, today's model calls and the cap, and whether the turn needs retrieval. */
export function readTurnSession(db: Db, organizationId: string, chatSessionId: string, cap: SQL<number>) {
  return db
    .select({
      status: chatSessions.status,
      messageCount: chatSessions.messageCount,
      personaDeleted: sql<boolean>`${personas.deletedAt} is not null`,
      modelCallsToday: sql`coalesce((select u.model_calls from usage_counters u
        where u.organization_id = ${organizationId} and u.day = (now() at time zone 'utc')::date), 0)`.mapWith(Number),
      dailyModelCallCap: sql`${cap}`.mapWith(Number),
      // Knowledge (issue 17): whether this turn needs a retrieval round trip at all: the persona
      // has READY sources, or the session has chunked attachments.
      hasKnowledge: sql<boolean>`(exists (select 1 from knowledge_sources k where k.organization_id = ${organizationId}
          and k.persona_id = ${personas.id} and k.status = 'READY')
        or exists (select 1 from knowledge_chunks c where c.organization_id = ${organizationId}
          and c.chat_session_id = ${chatSessions.id}))`,
      // Whether the question is worth embedding (hybrid retrieval): the embedder of the persona's
      // newest embedded READY source; null when none has vectors (no pgvector, embeddings off).
      embeddingModel: sql<string | null>`(select k.embedding_model from knowledge_sources k
        where k.organization_id = ${organizationId} and k.persona_id = ${personas.id} and k.status = 'READY'
          and k.embedding_model is not null order by k.ready_at desc limit 1)`,
      persona: {
        id: personas.id,
        name: personas.name,
        instructions: personas.instructions,
        model: personas.model,
        temperature: personas.temperature,
        maxOutputTokens: personas.maxOutputTokens,
        version: personas.version,
      },
    })
    .from(chatSessions)
    .innerJoin(personas, and(eq(personas.id, chatSessions.personaId), eq(personas.organizationId, organizationId)))
    .where(and(eq(chatSessions.id, chatSessionId), eq(chatSessions.organizationId, organizationId)));
}

/** What the session read returns for one session. */
export type TurnSession = Awaited<ReturnType<typeof readTurnSession>>[number];

type HistoryRow = {
  id: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  attachments: HistoryAttachment[] | null;
};

type HistoryLimits = { historyLimit: number; historyChars: number; attachmentChars: number };

/**
 * The history up to and including `messageId`, newest first, sized in SQL (message text plus each
 * attachment's text as far as it can be read), cut where the running size passes `historyChars`:
 * the Worker never receives more history than fits, however long or heavy the session is. The
 * message that crosses the line is still read, so the prompt can include or note it.
 */
export function readHistory(
  db: Db,
  organizationId: string,
  at: { chatSessionId: string; messageId: string },
  limits: HistoryLimits,
) {
  return db.execute<HistoryRow>(sql`
    with recent as (
      select m.id, m.created_at,
        length(m.content) + coalesce((
          select sum(least(a.char_count, ${limits.attachmentChars})) from attachments a
          where a.message_id = m.id and a.organization_id = ${organizationId}), 0) as size
      from messages m
      where m.chat_session_id = ${at.chatSessionId} and m.organization_id = ${organizationId}
        and m.status <> 'STREAMING'
        -- Reply versions not in use (chat.regenerate, chat.selectReplyVersion) are not history.
        and m.superseded_at is null
        and (m.created_at, m.id) <= (select created_at, id from messages
                                     where id = ${at.messageId} and organization_id = ${organizationId})
      order by m.created_at desc, m.id desc
      limit ${limits.historyLimit}
    ), sized as (
      select r.id, r.created_at,
        sum(r.size) over (order by r.created_at desc, r.id desc rows unbounded preceding) - r.size as before
      from recent r
    )
    select m.id, m.role, m.content, m.status,
      coalesce((
        select json_agg(json_build_object('id', a.id, 'filename', a.filename,
          'text', left(a.text, ${limits.attachmentChars}), 'storedChars', length(a.text),
          'hasText', a.has_text, 'truncated', a.truncated, 'pageCount', a.page_count)
          order by a.created_at, a.id)
        from attachments a where a.message_id = m.id and a.organization_id = ${organizationId}
      ), '[]'::json) as attachments
    from sized
    join messages m on m.id = sized.id and m.organization_id = ${organizationId}
    where sized.before < ${limits.historyChars}
    order by sized.created_at desc, sized.id desc`);
}

/** The history rows (newest first) as the prompt takes them: oldest first. */
export function historyFromRows(rows: HistoryRow[]): HistoryMessage[] {
  return rows.reverse().map((r) => ({ ...r, attachments: r.attachments ?? [] }));
}

/**
 * The reads every kind of turn (send, regenerate, edit) batches after its store statement, in the
 * same round trip: the session and persona (with the cap), the history up to `anchorId`, and the
 * Idempotency-Key's record when a key was sent.
 */
export function turnReads(
  db: Db,
  organizationId: string,
  input: { chatSessionId: string; anchorId: string; idempotency: { key: string } | undefined } & HistoryLimits,
  cap: SQL<number>,
) {
  const { chatSessionId, anchorId, idempotency } = input;
  return {
    session: readTurnSession(db, organizationId, chatSessionId, cap),
    history: readHistory(db, organizationId, { chatSessionId, messageId: anchorId }, input),
    key: idempotency ? readKey(db, organizationId, idempotency.key) : undefined,
  };
}
