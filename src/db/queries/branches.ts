import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';

/**
 * Branches (issue 16). Editing a user message (edit-message.ts) makes a fork: the message first
 * written there and its edits (`edit_of_id` names the first) are the alternatives, each the first
 * message of a branch. A branch's id is its first message's id. The active branch is the one in
 * use (superseded_at null); the messages of a branch left are out of use with `hidden_by` = its
 * first message, so switching back restores exactly the messages that were in use then.
 */

/**
 * No message of the session is in use from `from` on. A fork none of whose alternatives is in use
 * because the active one was deleted (chat.deleteMessage) is still on the active branch when every
 * alternative left was left at this fork (hidden by itself, not by an outer branch) and nothing in
 * use follows it: it is listed, and switching to one of its branches brings that branch back.
 */
const nothingInUseFrom = (organizationId: string, chatSessionId: SQL, from: SQL) => sql`not exists (
  select 1 from messages x where x.organization_id = ${organizationId} and x.chat_session_id = ${chatSessionId}
    and x.superseded_at is null and x.created_at >= ${from})`;

export type BranchRow = {
  session_id: string;
  fork: string | null;
  id: string | null;
  content: string | null;
  created_at: Date | string | null;
  active: boolean | null;
  message_count: number | string | null;
};

/**
 * The alternatives at every fork on the active branch (a fork with an alternative in use), forks
 * in the order of the conversation, alternatives oldest first, in one query. A branch's message
 * count: the messages in use from its first message on (active), or those it would restore. No
 * row when the session is not the organization's; one row with a null fork when it has no fork.
 */
export async function listBranches(db: Db, organizationId: string, chatSessionId: string) {
  const result = await db.execute<BranchRow>(sql`
    with s as (
      select id from chat_sessions where id = ${chatSessionId} and organization_id = ${organizationId}
    ), forks as (
      -- A fork: a message edited, or one left at its fork (hidden by itself) whose edits were deleted.
      select distinct coalesce(e.edit_of_id, e.id) as fork from messages e
      where e.chat_session_id = ${chatSessionId} and e.organization_id = ${organizationId}
        and (e.edit_of_id is not null or e.hidden_by = e.id)
    ), alts as (
      select f.fork, a.id, a.content, a.created_at, a.superseded_at is null as active,
        min(a.created_at) over (partition by f.fork) as fork_at,
        bool_or(a.superseded_at is null) over (partition by f.fork) as on_line,
        bool_and(a.hidden_by is not distinct from a.id) over (partition by f.fork) as all_left_here
      from forks f
      join messages a on a.organization_id = ${organizationId} and a.chat_session_id = ${chatSessionId}
        and (a.id = f.fork or a.edit_of_id = f.fork)
    ), shown as (
      select * from alts
      where on_line or (all_left_here and ${nothingInUseFrom(organizationId, sql`${chatSessionId}`, sql`alts.fork_at`)})
    )
    select s.id as session_id, shown.fork, shown.id, shown.content, shown.created_at, shown.active,
      case when shown.active then (select count(*) from messages x where x.organization_id = ${organizationId}
          and x.chat_session_id = s.id and x.superseded_at is null and (x.created_at, x.id) >= (shown.created_at, shown.id))
        else (select count(*) from messages x where x.organization_id = ${organizationId}
          and x.chat_session_id = s.id and x.hidden_by = shown.id) end as message_count
    from s left join shown on true
    order by shown.fork_at, shown.fork, shown.created_at, shown.id`);
  return result.rows;
}

export type SwitchRow = {
  id: string;
  chat_session_id: string;
  /** The message starts a branch (it was edited, or is an edit). */
  is_branch: boolean;
  streaming: boolean;
  /** The alternative in use at its fork; null when none is. */
  current: string | null;
  /** No alternative is in use but the fork is on the active branch (`nothingInUseFrom`). */
  open: boolean;
};

/**
 * Makes branch `branchId` the active one at its fork, in one statement, unless a reply in the
 * session is being generated: the messages in use from the current alternative on go out of use
 * (hidden_by = it), and the messages the branch had in use when it was left come back. Reply
 * versions out of use then stay out. No row when the message is not the organization's.
 */
export async function switchBranch(db: Db, organizationId: string, chatSessionId: string, branchId: string) {
  const result = await db.execute<SwitchRow>(sql`
    with a as (
      select m.id, m.chat_session_id, coalesce(m.edit_of_id, m.id) as fork,
        (m.edit_of_id is not null or m.hidden_by = m.id or exists (select 1 from messages e where e.edit_of_id = m.id
          and e.organization_id = ${organizationId} and e.chat_session_id = m.chat_session_id)) as is_branch,
        exists (select 1 from messages r where r.chat_session_id = m.chat_session_id
          and r.organization_id = ${organizationId} and r.status = 'STREAMING') as streaming
      from messages m where m.id = ${branchId} and m.organization_id = ${organizationId}
        and m.chat_session_id = ${chatSessionId} and m.role = 'USER'
    ), c as (
      select m.id, m.created_at from a
      join messages m on m.organization_id = ${organizationId} and m.chat_session_id = a.chat_session_id
        and (m.id = a.fork or m.edit_of_id = a.fork) and m.superseded_at is null
      where a.is_branch and not a.streaming
    ), free as (
      select 1 from a where a.is_branch and not a.streaming and not exists (select 1 from c)
        and not exists (select 1 from messages m where m.organization_id = ${organizationId}
          and m.chat_session_id = a.chat_session_id and (m.id = a.fork or m.edit_of_id = a.fork)
          and m.hidden_by is distinct from m.id)
        and ${nothingInUseFrom(
          organizationId,
          sql`a.chat_session_id`,
          sql`(select min(m.created_at) from messages m where m.organization_id = ${organizationId}
            and m.chat_session_id = a.chat_session_id and (m.id = a.fork or m.edit_of_id = a.fork))`,
        )}
    ), hide as (
      update messages x set superseded_at = now(), hidden_by = c.id from a, c
      where x.organization_id = ${organizationId} and x.chat_session_id = a.chat_session_id and c.id <> a.id
        and x.superseded_at is null and (x.created_at, x.id) >= (c.created_at, c.id)
      returning x.id
    ), shown as (
      update messages x set superseded_at = null, hidden_by = null from a
      where x.organization_id = ${organizationId} and x.chat_session_id = a.chat_session_id and x.hidden_by = a.id
        and (exists (select 1 from c where c.id <> a.id) or exists (select 1 from free))
      returning x.id
    ), bump as (
      update chat_sessions s set message_count = greatest(0, message_count
          + (select count(*) from shown) - (select count(*) from hide)), updated_at = now()
      from a where s.id = a.chat_session_id and s.organization_id = ${organizationId}
        and (exists (select 1 from shown) or exists (select 1 from hide))
      returning s.id
    )
    select a.id, a.chat_session_id, a.is_branch, a.streaming, (select c.id from c) as current,
      exists (select 1 from free) as open
    from a`);
  return result.rows;
}
