import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type WebhookDeliveryStatus, type WebhookEventType, webhookDeliveries, webhookEvents } from '../schema';

/** Everything one attempt needs, read in one statement. */
export type DeliveryToSend = {
  id: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  eventId: string;
  type: WebhookEventType;
  payload: Record<string, unknown>;
  eventCreatedAt: Date;
  url: string;
  secret: string;
  enabled: boolean;
};

export async function loadDelivery(db: Db, organizationId: string, id: string): Promise<DeliveryToSend | undefined> {
  const result = await db.execute<{
    id: string;
    status: WebhookDeliveryStatus;
    attempts: number;
    event_id: string;
    type: WebhookEventType;
    payload: Record<string, unknown>;
    event_created_at: string;
    url: string;
    secret: string;
    enabled: boolean;
  }>(sql`
    select d.id, d.status, d.attempts, d.event_id, ev.type, ev.payload, ev.created_at as event_created_at,
      we.url, we.secret, we.enabled
    from webhook_deliveries d
    join webhook_events ev on ev.id = d.event_id and ev.organization_id = d.organization_id
    join webhook_endpoints we on we.id = d.endpoint_id and we.organization_id = d.organization_id
    where d.organization_id = ${organizationId} and d.id = ${id}`);
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    status: row.status,
    attempts: Number(row.attempts),
    eventId: row.event_id,
    type: row.type,
    payload: row.payload,
    eventCreatedAt: new Date(row.event_created_at),
    url: row.url,
    secret: row.secret,
    enabled: row.enabled,
  };
}

export type AttemptOutcome =
  | { ok: true; statusCode: number }
  | {
      ok: false;
      statusCode: number | null;
      error: string;
      /** Seconds until the next attempt; null: this was the last one (the delivery FAILS). */
      retryInSeconds: number | null;
      /** An endpoint failing for longer than this is disabled. */
      disableAfterSeconds: number;
    };

/**
 * Records one attempt and its effect on the endpoint, in one statement: a success clears the
 * endpoint's failure record; a failure starts it (or, when it started over `disableAfterSeconds`
 * ago, disables the endpoint with the reason). Only a PENDING delivery is updated, so a duplicate
 * queue message cannot undo a recorded success. Returns whether the endpoint was disabled now.
 */
export async function recordAttempt(
  db: Db,
  organizationId: string,
  id: string,
  outcome: AttemptOutcome,
): Promise<{ recorded: boolean; endpointDisabled: boolean }> {
  const status = outcome.ok ? 'SUCCEEDED' : outcome.retryInSeconds === null ? 'FAILED' : 'PENDING';
  const dueIn = outcome.ok ? 0 : (outcome.retryInSeconds ?? 0);
  const error = outcome.ok ? null : outcome.error.slice(0, 200);
  const endpointUpdate = outcome.ok
    ? sql`update webhook_endpoints we set failing_since = null from d where we.id = d.endpoint_id
        and we.organization_id = ${organizationId} and we.failing_since is not null returning false as disabled`
    : sql`update webhook_endpoints we set
          failing_since = coalesce(we.failing_since, now()),
          enabled = we.enabled and coalesce(we.failing_since, now()) > now() - make_interval(secs => ${outcome.disableAfterSeconds}),
          disabled_reason = case
            when we.enabled and coalesce(we.failing_since, now()) <= now() - make_interval(secs => ${outcome.disableAfterSeconds})
            then 'Failing since ' || to_char(we.failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
              || '; last error: ' || ${error}
            else we.disabled_reason end,
          updated_at = now()
        from d where we.id = d.endpoint_id and we.organization_id = ${organizationId}
        returning (not we.enabled and we.disabled_reason like 'Failing since %') as disabled`;
  const result = await db.execute<{ recorded: number; disabled: boolean | null }>(sql`
    with d as (
      update webhook_deliveries set
        status = ${status}, attempts = attempts + 1, last_status_code = ${outcome.statusCode},
        last_error = ${error}, last_attempt_at = now(), due_at = now() + make_interval(secs => ${dueIn})
      where organization_id = ${organizationId} and id = ${id} and status = 'PENDING'
      returning endpoint_id
    ),
    e as (${endpointUpdate})
    select (select count(*)::int from d) as recorded, (select bool_or(disabled) from e) as disabled`);
  const row = result.rows[0];
  return { recorded: Number(row?.recorded ?? 0) > 0, endpointDisabled: row?.disabled === true };
}

/** Marks a delivery whose endpoint is disabled (or gone) as FAILED, without an attempt. */
export async function abandonDelivery(db: Db, organizationId: string, id: string, reason: string) {
  await db
    .update(webhookDeliveries)
    .set({ status: 'FAILED', lastError: reason })
    .where(
      and(
        eq(webhookDeliveries.organizationId, organizationId),
        eq(webhookDeliveries.id, id),
        eq(webhookDeliveries.status, 'PENDING'),
      ),
    );
}

const deliveryColumns = {
  id: webhookDeliveries.id,
  endpointId: webhookDeliveries.endpointId,
  eventId: webhookDeliveries.eventId,
  eventType: webhookEvents.type,
  status: webhookDeliveries.status,
  attempts: webhookDeliveries.attempts,
  lastStatusCode: webhookDeliveries.lastStatusCode,
  lastError: webhookDeliveries.lastError,
  lastAttemptAt: webhookDeliveries.lastAttemptAt,
  nextAttemptAt:
    sql<Date | null>`case when ${webhookDeliveries.status} = 'PENDING' then ${webhookDeliveries.dueAt} end`.mapWith(
      (v: string | null) => (v === null ? null : new Date(v)),
    ),
  createdAt: webhookDeliveries.createdAt,
};

/** An endpoint's deliveries, newest first, keyset-paginated by (created_at, id). */
export function listDeliveries(
  db: Db,
  organizationId: string,
  filter: {
    endpointId: string;
    status?: WebhookDeliveryStatus;
    limit: number;
    cursor?: string;
  },
) {
  // After the cursor's row in (created_at, id) order; an unknown cursor matches nothing.
  const keyset = filter.cursor
    ? sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < (select created_at, id from webhook_deliveries
        where organization_id = ${organizationId} and id = ${filter.cursor})`
    : undefined;
  return db
    .select(deliveryColumns)
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(
      and(
        eq(webhookDeliveries.organizationId, organizationId),
        eq(webhookDeliveries.endpointId, filter.endpointId),
        filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
        keyset,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(filter.limit);
}

/** Puts a delivery back to PENDING for a new series of attempts (same event, same webhook-id). */
export async function resetDelivery(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .update(webhookDeliveries)
    .set({ status: 'PENDING', attempts: 0, dueAt: sql`now()` })
    .where(and(eq(webhookDeliveries.organizationId, organizationId), eq(webhookDeliveries.id, id)))
    .returning({ id: webhookDeliveries.id, organizationId: webhookDeliveries.organizationId });
  return row;
}
