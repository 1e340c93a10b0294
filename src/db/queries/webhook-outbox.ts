import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';
import type { WebhookEventType } from '../schema';

/**
 * The outbox half of webhooks: events are written by the statement that makes the change they
 * describe (as one more CTE of it), so an event exists exactly when its change committed; a change
 * that is refused or rolled back leaves none. Only organizations with an enabled endpoint that wants
 * the type get a row, so the outbox costs nothing to organizations without webhooks.
 */
export type OutboxEvent = {
  /** `newId('webhookEvent')`, or `eventIdSql` when `from` yields several rows: the webhook-id receivers deduplicate by. */
  id: string | SQL;
  /** The organization, or a column of `from` when its rows span organizations (archival). */
  organizationId: string | SQL;
  type: WebhookEventType;
  /** A jsonb expression, evaluated over `from` (e.g. the change's own CTE). */
  payload: SQL;
  /** The rows the event describes (`from s`); none: the event is written once. */
  from?: SQL;
  /** A further condition on those rows (e.g. only a reply's first finish). */
  when?: SQL;
};

/** A fresh event id per row, for events written by a statement that changes many rows at once. */
export const eventIdSql = sql`'evt_' || upper(replace(gen_random_uuid()::text, '-', ''))`;

/** `<name> as (insert into webhook_events …)`, to add to a statement's WITH list. */
export function outboxCte(name: string, event: OutboxEvent): SQL {
  return sql`${sql.identifier(name)} as (
    insert into webhook_events (id, organization_id, type, payload)
    select ${event.id}, ${event.organizationId}, ${event.type}, ${event.payload}
    ${event.from ? sql`from ${event.from}` : sql``}
    where exists (
      select 1 from webhook_endpoints we
      where we.organization_id = ${event.organizationId} and we.enabled and ${event.type} = any(we.events)
    )${event.when ? sql` and ${event.when}` : sql``}
    returning id
  )`;
}

/** Writes one event on its own (for changes made by a statement that cannot carry the CTE). */
export async function insertOutboxEvent(db: Db, event: OutboxEvent): Promise<boolean> {
  const result = await db.execute(sql`with ${outboxCte('event', event)} select count(*)::int as n from event`);
  return Number(result.rows[0]?.n ?? 0) > 0;
}

export type DeliveryRef = { id: string; organizationId: string };

/**
 * Takes up to `limit` undispatched events, creates one delivery per subscribed enabled endpoint and
 * marks the events dispatched, in one statement; returns the deliveries to put on the queue. Locked
 * rows are skipped, so concurrent drains take disjoint events. With `organizationId`, only that
 * organization's events (a request drains what it wrote). If the queue send then fails, the
 * deliveries stay PENDING and the sweeper (sweepStaleDeliveries) sends them later: nothing is lost.
 */
export async function claimOutbox(
  db: Db,
  limit: number,
  organizationId?: string,
): Promise<{ events: number; deliveries: DeliveryRef[] }> {
  const result = await db.execute<{ id: string | null; organization_id: string | null; events: number }>(sql`
    with ev as (
      select id, organization_id, type from webhook_events
      where dispatched_at is null ${organizationId ? sql`and organization_id = ${organizationId}` : sql``}
      order by created_at
      limit ${limit}
      for update skip locked
    ),
    marked as (update webhook_events set dispatched_at = now() where id in (select id from ev)),
    created as (
      insert into webhook_deliveries (id, organization_id, event_id, endpoint_id)
      select 'whdl_' || upper(replace(gen_random_uuid()::text, '-', '')), ev.organization_id, ev.id, we.id
      from ev
      join webhook_endpoints we
        on we.organization_id = ev.organization_id and we.enabled and ev.type = any(we.events)
      on conflict (event_id, endpoint_id) do nothing
      returning id, organization_id
    )
    select c.id, c.organization_id, (select count(*)::int from ev) as events
    from (select 1) one left join created c on true`);
  const deliveries: DeliveryRef[] = [];
  for (const r of result.rows)
    if (r.id && r.organization_id) deliveries.push({ id: r.id, organizationId: r.organization_id });
  return { events: Number(result.rows[0]?.events ?? 0), deliveries };
}

/**
 * PENDING deliveries due more than `staleSeconds` ago were lost in flight (a queue send that failed,
 * a consumer killed mid-attempt): lease them for `leaseSeconds` and return them to send again.
 */
export async function sweepStaleDeliveries(
  db: Db,
  options: { limit: number; staleSeconds: number; leaseSeconds: number },
): Promise<DeliveryRef[]> {
  const result = await db.execute<{ id: string; organization_id: string }>(sql`
    update webhook_deliveries set due_at = now() + make_interval(secs => ${options.leaseSeconds})
    where id in (
      select id from webhook_deliveries
      where status = 'PENDING' and due_at < now() - make_interval(secs => ${options.staleSeconds})
      order by due_at
      limit ${options.limit}
      for update skip locked
    )
    returning id, organization_id`);
  return result.rows.map((r) => ({ id: r.id, organizationId: r.organization_id }));
}

/** reply.completed's data, from a row of `messages` (the finished reply) in `rows`. */
export function replyCompletedPayload(rows: SQL, inputTokens: number | SQL, outputTokens: number | SQL): SQL {
  return sql`jsonb_build_object('sessionId', ${rows}.chat_session_id, 'reply', jsonb_build_object('id', ${rows}.id,
    'replyToId', ${rows}.reply_to_id, 'status', ${rows}.status, 'content', ${rows}.content,
    'finishedAt', ${rows}.updated_at),
    'usage', jsonb_build_object('inputTokens', ${inputTokens}::bigint, 'outputTokens', ${outputTokens}::bigint))`;
}

/** session.archived's data, from rows of `chat_sessions` in `rows`. */
export function sessionArchivedPayload(rows: SQL): SQL {
  return sql`jsonb_build_object('sessionId', ${rows}.id, 'reason', ${rows}.archive_reason,
    'archivedAt', ${rows}.archived_at)`;
}

/** source.ready / source.failed's data, from the source row in CTE `src`, with the status's own fields. */
export function sourcePayload(status: 'READY' | 'FAILED', fields: SQL): SQL {
  return sql`jsonb_build_object('source', jsonb_build_object('id', src.id, 'personaId', src.persona_id,
    'filename', src.filename, 'status', ${status}::text) || jsonb_build_object(${fields}))`;
}
