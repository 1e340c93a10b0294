import { and, between, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { usageDaily } from '../schema';

/**
 * A data-modifying CTE body that adds to `usage_daily` for today (UTC). `rows` is a select giving,
 * in this order: organization_id, persona_id, sessions_started, messages, replies, model_calls,
 * input_tokens, output_tokens, attachment_bytes — at most one row per (organization, persona),
 * since one statement cannot update the same row twice. It is written into the statement that
 * does the work, so what is counted committed with the work, and nothing else.
 */
export function addUsage(rows: SQL): SQL {
  return sql`
    insert into usage_daily (organization_id, day, persona_id, sessions_started, messages, replies, model_calls,
      input_tokens, output_tokens, attachment_bytes)
    select u.organization_id, (now() at time zone 'utc')::date, u.persona_id, u.sessions_started, u.messages,
      u.replies, u.model_calls, u.input_tokens, u.output_tokens, u.attachment_bytes
    from (${rows}) as u(organization_id, persona_id, sessions_started, messages, replies, model_calls,
      input_tokens, output_tokens, attachment_bytes)
    on conflict (organization_id, day, persona_id) do update set
      sessions_started = usage_daily.sessions_started + excluded.sessions_started,
      messages = usage_daily.messages + excluded.messages,
      replies = usage_daily.replies + excluded.replies,
      model_calls = usage_daily.model_calls + excluded.model_calls,
      input_tokens = usage_daily.input_tokens + excluded.input_tokens,
      output_tokens = usage_daily.output_tokens + excluded.output_tokens,
      attachment_bytes = usage_daily.attachment_bytes + excluded.attachment_bytes
    returning 1`;
}

export type UsageCounts = {
  sessionsStarted: number;
  messages: number;
  replies: number;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  attachmentBytes: number;
};

export type UsageRow = UsageCounts & { day: string; personaId: string };

/**
 * The organization's usage from `from` to `to` (UTC days, inclusive), per day and persona, oldest
 * day first. One primary-key range, at most `maxRows` rows (`more` says there were more).
 */
export async function readUsage(
  db: Db,
  organizationId: string,
  range: { from: string; to: string; personaId?: string | undefined },
  maxRows: number,
): Promise<{ rows: UsageRow[]; more: boolean }> {
  const rows = await db
    .select({
      day: usageDaily.day,
      personaId: usageDaily.personaId,
      sessionsStarted: usageDaily.sessionsStarted,
      messages: usageDaily.messages,
      replies: usageDaily.replies,
      modelCalls: usageDaily.modelCalls,
      inputTokens: usageDaily.inputTokens,
      outputTokens: usageDaily.outputTokens,
      attachmentBytes: usageDaily.attachmentBytes,
    })
    .from(usageDaily)
    .where(
      and(
        eq(usageDaily.organizationId, organizationId),
        between(usageDaily.day, range.from, range.to),
        range.personaId ? eq(usageDaily.personaId, range.personaId) : undefined,
      ),
    )
    .orderBy(usageDaily.day, usageDaily.personaId)
    .limit(maxRows + 1);
  return { rows: rows.slice(0, maxRows), more: rows.length > maxRows };
}

export function sumUsage(rows: UsageCounts[]): UsageCounts {
  const total: UsageCounts = {
    sessionsStarted: 0,
    messages: 0,
    replies: 0,
    modelCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    attachmentBytes: 0,
  };
  for (const r of rows) {
    for (const k of Object.keys(total) as (keyof UsageCounts)[]) total[k] += r[k];
  }
  return total;
}

/**
 * Counts one model call against the organization's daily cap, for a call made outside a session
 * (the stateless OpenAI-compatible endpoint). The same counter and the same conditional upsert as a
 * turn's (src/db/queries/turns.ts beginTurn), in one statement: the count never passes the cap,
 * however many calls race. `allowed` is false when today's calls already reached the cap.
 */
export async function claimModelCall(
  db: Db,
  organizationId: string,
  personaId: string,
  defaultDailyModelCalls: number,
): Promise<{ allowed: boolean; cap: number }> {
  const result = await db.execute<{ cap: number | null; allowed: boolean }>(sql`
    with cap as (
      select coalesce(o.daily_model_call_cap, ${defaultDailyModelCalls})::int as cap
      from organizations o where o.id = ${organizationId}
    ), quota as (
      insert into usage_counters (organization_id, day, model_calls)
      select ${organizationId}, (now() at time zone 'utc')::date, 1 from cap where cap.cap > 0
      on conflict (organization_id, day) do update set model_calls = usage_counters.model_calls + 1
        where usage_counters.model_calls < (select cap from cap)
      returning model_calls
    ), usage as (${addUsage(sql`select ${organizationId}, ${personaId}, 0, 0, 0, 1, 0, 0, 0 from quota`)})
    select (select cap from cap) as cap, exists (select 1 from quota) as allowed`);
  const row = result.rows[0];
  return { allowed: row?.allowed === true, cap: row?.cap ?? 0 };
}

/** Adds a stateless call's tokens to its persona's usage for today (the call itself was counted by claimModelCall). */
export async function addCallTokens(
  db: Db,
  organizationId: string,
  personaId: string,
  tokens: { inputTokens: number | null; outputTokens: number | null },
): Promise<void> {
  await db.execute(sql`
    with usage as (${addUsage(
      sql`select ${organizationId}, ${personaId}, 0, 0, 0, 0, ${tokens.inputTokens ?? 0}::bigint, ${tokens.outputTokens ?? 0}::bigint, 0`,
    )})
    select count(*) from usage`);
}
