import { sql } from 'drizzle-orm';
import type { Db } from '../client';

/**
 * Counts one model call against the organization's daily cap, for a call made outside a session
 * (the stateless OpenAI-compatible endpoint). The same counter and the same conditional upsert as a
 * turn's (src/db/queries/turns.ts beginTurn), in one statement: the count never passes the cap,
 * however many calls race. `allowed` is false when today's calls already reached the cap.
 */
export async function claimModelCall(
  db: Db,
  organizationId: string,
  defaultDailyModelCalls: number,
): Promise<{ allowed: boolean; cap: number }> {
  const result = await db.execute(sql`
    with cap as (
      select coalesce(o.daily_model_call_cap, ${defaultDailyModelCalls})::int as cap
      from organizations o where o.id = ${organizationId}
    ), quota as (
      insert into usage_counters (organization_id, day, model_calls)
      select ${organizationId}, (now() at time zone 'utc')::date, 1 from cap where cap.cap > 0
      on conflict (organization_id, day) do update set model_calls = usage_counters.model_calls + 1
        where usage_counters.model_calls < (select cap from cap)
      returning model_calls
    )
    select (select cap from cap) as cap, exists (select 1 from quota) as allowed`);
  const row = result.rows[0] as { cap: number | string | null; allowed: boolean } | undefined;
  return { allowed: row?.allowed === true, cap: Number(row?.cap ?? 0) };
}
