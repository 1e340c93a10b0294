import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type WebhookEventType, webhookEndpoints } from '../schema';

/** Columns safe to list: never the secret (it is shown once, when created or rotated). */
const publicColumns = {
  id: webhookEndpoints.id,
  url: webhookEndpoints.url,
  events: webhookEndpoints.events,
  description: webhookEndpoints.description,
  enabled: webhookEndpoints.enabled,
  disabledReason: webhookEndpoints.disabledReason,
  failingSince: webhookEndpoints.failingSince,
  createdAt: webhookEndpoints.createdAt,
  updatedAt: webhookEndpoints.updatedAt,
};

export type WebhookEndpointRow = {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

const scoped = (organizationId: string, id: string) =>
  and(eq(webhookEndpoints.organizationId, organizationId), eq(webhookEndpoints.id, id));

/** Inserts an endpoint unless the organization already has `maxPerOrganization` (one statement). */
export async function insertWebhookEndpoint(
  db: Db,
  organizationId: string,
  values: { id: string; url: string; events: WebhookEventType[]; description: string | null; secret: string },
  maxPerOrganization: number,
): Promise<WebhookEndpointRow | undefined> {
  const result = await db.execute<{ id: string }>(sql`
    insert into webhook_endpoints (id, organization_id, url, events, description, secret)
    select ${values.id}, ${organizationId}, ${values.url}, ${sql.param(values.events)}::text[], ${values.description},
      ${values.secret}
    where (select count(*) from webhook_endpoints where organization_id = ${organizationId}) < ${maxPerOrganization}
    returning id`);
  if (result.rows.length === 0) return undefined;
  return getWebhookEndpoint(db, organizationId, values.id);
}

export async function getWebhookEndpoint(db: Db, organizationId: string, id: string) {
  const [row] = await db.select(publicColumns).from(webhookEndpoints).where(scoped(organizationId, id)).limit(1);
  return row;
}

/** Newest first, keyset-paginated by (created_at, id). */
export function listWebhookEndpoints(db: Db, organizationId: string, page: { limit: number; cursor?: string }) {
  // After the cursor's row in (created_at, id) order; an unknown cursor matches nothing.
  const keyset = page.cursor
    ? sql`(${webhookEndpoints.createdAt}, ${webhookEndpoints.id}) < (select created_at, id from webhook_endpoints
        where organization_id = ${organizationId} and id = ${page.cursor})`
    : undefined;
  return db
    .select(publicColumns)
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.organizationId, organizationId), keyset))
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(page.limit);
}

export type WebhookEndpointPatch = {
  url?: string;
  events?: WebhookEventType[];
  description?: string | null;
  /** Enabling clears the failure record; disabling records the organization as the reason. */
  enabled?: boolean;
};

export async function updateWebhookEndpoint(db: Db, organizationId: string, id: string, patch: WebhookEndpointPatch) {
  const enabled =
    patch.enabled === undefined
      ? {}
      : patch.enabled
        ? { enabled: true, disabledReason: null, failingSince: null }
        : { enabled: false, disabledReason: 'Disabled by the organization.' };
  const [row] = await db
    .update(webhookEndpoints)
    .set({
      ...(patch.url === undefined ? {} : { url: patch.url }),
      ...(patch.events === undefined ? {} : { events: patch.events }),
      ...(patch.description === undefined ? {} : { description: patch.description }),
      ...enabled,
      updatedAt: sql`now()`,
    })
    .where(scoped(organizationId, id))
    .returning(publicColumns);
  return row;
}

export async function rotateWebhookSecret(db: Db, organizationId: string, id: string, secret: string) {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ secret, updatedAt: sql`now()` })
    .where(scoped(organizationId, id))
    .returning({ id: webhookEndpoints.id });
  return row;
}

/** Deletes the endpoint and (by cascade) its delivery records. */
export async function deleteWebhookEndpoint(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .delete(webhookEndpoints)
    .where(scoped(organizationId, id))
    .returning({ id: webhookEndpoints.id });
  return row;
}
