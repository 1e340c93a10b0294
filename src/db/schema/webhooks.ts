import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz, updatedAt } from './columns';
import { organizations } from './organizations';

export const webhookEventTypes = [
  'session.created',
  'message.created',
  'reply.completed',
  'session.archived',
  'source.ready',
  'source.failed',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** Where an organization wants events delivered. The secret signs deliveries (Standard Webhooks). */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    /** Event types delivered here. */
    events: text('events').array().$type<WebhookEventType[]>().notNull(),
    description: text('description'),
    /** `whsec_…`; returned only when created or rotated. */
    secret: text('secret').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** Why the endpoint was disabled: by its organization, or after failing for a day. */
    disabledReason: text('disabled_reason'),
    /** First failed attempt since the last success; a day of failures disables the endpoint. */
    failingSince: timestamptz('failing_since'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('webhook_endpoints_organization_idx').on(t.organizationId, t.createdAt)],
);

/**
 * The outbox: one row per change, written by the statement that makes the change (so an event
 * exists exactly when its change committed), and only when an enabled endpoint of the organization
 * wants its type. `dispatched_at` is set once its deliveries are on the queue.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    /** The `webhook-id` receivers deduplicate by: the same on every attempt and replay. */
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    type: text('type').$type<WebhookEventType>().notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    dispatchedAt: timestamptz('dispatched_at'),
  },
  (t) => [
    index('webhook_events_undispatched_idx').on(t.createdAt).where(sql`${t.dispatchedAt} is null`),
    index('webhook_events_organization_idx').on(t.organizationId, t.createdAt),
  ],
);

export const webhookDeliveryStatuses = ['PENDING', 'SUCCEEDED', 'FAILED'] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

/**
 * One event to one endpoint. The row, not the queue message, is the truth: a PENDING delivery whose
 * `due_at` has long passed was lost in flight (a consumer killed mid-attempt) and is sent again by
 * the sweeper, with the same webhook-id.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    eventId: text('event_id')
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    status: text('status').$type<WebhookDeliveryStatus>().notNull().default('PENDING'),
    attempts: integer('attempts').notNull().default(0),
    /** When the next attempt is due (PENDING only). */
    dueAt: timestamptz('due_at').notNull().defaultNow(),
    lastStatusCode: integer('last_status_code'),
    /** A short reason for the last failure (status line or network error kind), never a body. */
    lastError: text('last_error'),
    lastAttemptAt: timestamptz('last_attempt_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_endpoint_key').on(t.eventId, t.endpointId),
    index('webhook_deliveries_endpoint_idx').on(t.organizationId, t.endpointId, t.createdAt),
    index('webhook_deliveries_due_idx').on(t.dueAt).where(sql`${t.status} = 'PENDING'`),
  ],
);
