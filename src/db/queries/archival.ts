import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { eventIdSql, outboxCte, sessionArchivedPayload } from './webhook-outbox';

export type ArchivedSession = { id: string; organizationId: string };

/**
 * Archives up to `limit` ACTIVE sessions whose last activity is older than their organization's idle
 * period (`organizations.idle_archive_days`, else `defaultIdleDays`; at least one day either way),
 * oldest first, and returns their ids.
 *
 * One statement, so one transaction on the Neon HTTP driver. `FOR UPDATE SKIP LOCKED` lets two
 * overlapping runs take disjoint rows instead of waiting on each other, and the outer WHERE re-checks
 * status and idleness on the locked row, so a session reactivated or written to meanwhile is left
 * alone and none is archived twice. Archiving bumps updated_at (the status changed) but not
 * last_activity_at, and never touches messages.
 */
export async function archiveIdleSessions(
  db: Db,
  params: { defaultIdleDays: number; limit: number },
): Promise<ArchivedSession[]> {
  const defaultDays = sql`${params.defaultIdleDays}::int`;
  // greatest() ignores nulls, so the default is applied first and the floor of one day after it.
  const idleDays = (org: string) =>
    sql`greatest(coalesce(${sql.identifier(org)}.idle_archive_days, ${defaultDays}), 1)`;
  const result = await db.execute<ArchivedSession>(sql`
    with archived as (
    update chat_sessions s
    set status = 'ARCHIVED', archived_at = now(), archive_reason = 'idle', updated_at = now()
    from organizations o
    where o.id = s.organization_id
      and s.status = 'ACTIVE'
      and s.last_activity_at < now() - make_interval(days => ${idleDays('o')})
      and s.id in (
        select c.id from chat_sessions c
        join organizations co on co.id = c.organization_id
        where c.status = 'ACTIVE'
          -- The shortest idle period of any organization bounds a range scan of the partial index
          -- chat_sessions_idle_active_idx, so a run with nothing to do reads no active session.
          and c.last_activity_at < now() - make_interval(days => greatest(least(
            ${defaultDays},
            (select min(idle_archive_days) from organizations)
          ), 1))
          and c.last_activity_at < now() - make_interval(days => ${idleDays('co')})
        order by c.last_activity_at
        limit ${params.limit}
        for update of c skip locked
      )
    returning s.id, s.organization_id, s.archived_at, s.archive_reason
    ), ${outboxCte('event', {
      id: eventIdSql,
      organizationId: sql`archived.organization_id`,
      type: 'session.archived',
      from: sql`archived`,
      payload: sessionArchivedPayload(sql`archived`),
    })}
    select id, organization_id as "organizationId" from archived`);
  return result.rows;
}
