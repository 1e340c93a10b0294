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
  /** `newId('webhookEvent')`: the webhook-id receivers deduplicate by. */
  id: string;
  organizationId: string;
  type: WebhookEventType;
  /** A jsonb expression, evaluated over `from` (e.g. the change's own CTE). */
  payload: SQL;
  /** The rows the event describes (`from s`); none: the event is written once. */
  from?: SQL;
};

/** `<name> as (insert into webhook_events …)`, to add to a statement's WITH list. */
export function outboxCte(name: string, event: OutboxEvent): SQL {
  return sql`${sql.identifier(name)} as (
    insert into webhook_events (id, organization_id, type, payload)
    select ${event.id}, ${event.organizationId}, ${event.type}, ${event.payload}
    ${event.from ? sql`from ${event.from}` : sql``}
    where exists (
      select 1 from webhook_endpoints we
      where we.organization_id = ${event.organizationId} and we.enabled and ${event.type} = any(we.events)
    )
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
 * rows are skipped, so concurrent drains take disjoint events. If the queue send then fails, the
 * deliveries stay PENDING and the sweeper (sweepStaleDeliveries) sends them later: nothing is lost.
 */
export async function claimOutbox(db: Db, limit: number): Promise<{ events: number; deliveries: DeliveryRef[] }> {
  const result = await db.execute<{ id: string | null; organization_id: string | null; events: number }>(sql`
    with ev as (
      select id, organization_id, type from webhook_events
      where dispatched_at is null
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
