import type { z } from 'zod';
import type { Db } from '../db/client';
import { resetDelivery } from '../db/queries/webhook-deliveries';
import {
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  insertWebhookEndpoint,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '../db/queries/webhook-endpoints';
import type { Env } from '../env';
import { AppError } from '../errors';
import { newId } from '../ids';
import { webhookEndpointView } from '../views/webhook';
import type { createEndpointInput, updateEndpointInput } from '../webhooks/input';
import type { WebhookJob } from '../webhooks/job';
import { generateWebhookSecret } from '../webhooks/signature';
import { checkWebhookUrl } from '../webhooks/url';

/** Endpoints one organization may have: a handful is normal; the cap bounds the fan-out per event. */
export const MAX_ENDPOINTS_PER_ORGANIZATION = 20;

/** Use cases of webhook endpoints, shared by the tRPC procedures and the operator API. */
type Scope = { db: Db; env: Env; organizationId: string };

const notFound = (id: string) => new AppError('NOT_FOUND', `Webhook endpoint ${id} not found.`);

/**
 * Plain http to this machine only in local development and tests (where `npm run dev` and the test
 * setup set LOCAL_DEV_SECRET); production endpoints are https to a public host.
 */
function urlOptions(env: Env) {
  return { allowLoopbackHttp: env.LOCAL_DEV_SECRET !== undefined && env.LOCAL_DEV_SECRET !== '' };
}

/** Creates an endpoint; the answer is the only time its secret is shown (rotate to get a new one). */
export async function createWebhookEndpoint(scope: Scope, input: z.output<typeof createEndpointInput>) {
  const url = checkWebhookUrl(input.url, urlOptions(scope.env));
  const secret = generateWebhookSecret();
  const row = await insertWebhookEndpoint(
    scope.db,
    scope.organizationId,
    { id: newId('webhookEndpoint'), url, events: input.events, description: input.description ?? null, secret },
    MAX_ENDPOINTS_PER_ORGANIZATION,
  );
  if (!row) {
    throw new AppError(
      'CONFLICT',
      `An organization can have at most ${MAX_ENDPOINTS_PER_ORGANIZATION} webhook endpoints; delete one first.`,
    );
  }
  return { ...webhookEndpointView(row), secret };
}

export async function updateWebhook(scope: Scope, input: z.output<typeof updateEndpointInput>) {
  const url = input.url === undefined ? undefined : checkWebhookUrl(input.url, urlOptions(scope.env));
  const row = await updateWebhookEndpoint(scope.db, scope.organizationId, input.id, {
    url,
    events: input.events,
    description: input.description === undefined ? undefined : (input.description ?? null),
    enabled: input.enabled,
  });
  if (!row) throw notFound(input.id);
  return webhookEndpointView(row);
}

export async function getWebhook(scope: Scope, id: string) {
  const row = await getWebhookEndpoint(scope.db, scope.organizationId, id);
  if (!row) throw notFound(id);
  return webhookEndpointView(row);
}

/** A new secret takes effect at once: the next attempt is signed with it. */
export async function rotateWebhook(scope: Scope, id: string) {
  const secret = generateWebhookSecret();
  const row = await rotateWebhookSecret(scope.db, scope.organizationId, id, secret);
  if (!row) throw notFound(id);
  return { id: row.id, secret };
}

export async function deleteWebhook(scope: Scope, id: string) {
  const row = await deleteWebhookEndpoint(scope.db, scope.organizationId, id);
  if (!row) throw notFound(id);
  return { id: row.id, deleted: true as const };
}

/** Sends a delivery again (same event, same webhook-id), as a new series of attempts. */
export async function replayWebhookDelivery(scope: Scope, id: string) {
  const queue = scope.env.WEBHOOK_QUEUE;
  if (!queue) throw new AppError('NOT_CONFIGURED', 'Webhook delivery is not configured (no WEBHOOK_QUEUE binding).');
  const row = await resetDelivery(scope.db, scope.organizationId, id);
  if (!row) throw new AppError('NOT_FOUND', `Webhook delivery ${id} not found.`);
  const job: WebhookJob = { organizationId: row.organizationId, deliveryId: row.id };
  await queue.send(job);
  return { id: row.id, status: 'PENDING' as const };
}
