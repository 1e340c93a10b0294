import { Hono } from 'hono';
import type { z } from 'zod';
import { listDeliveries } from '../db/queries/webhook-deliveries';
import { listWebhookEndpoints } from '../db/queries/webhook-endpoints';
import { AppError } from '../errors';
import type { HonoEnv } from '../hono-env';
import {
  createWebhookEndpoint,
  deleteWebhook,
  replayWebhookDelivery,
  rotateWebhook,
  updateWebhook,
} from '../services/webhooks';
import { describeIssues } from '../validation';
import { webhookDeliveryView, webhookEndpointView } from '../views/webhook';
import { createEndpointInput, listDeliveriesInput, updateEndpointInput } from '../webhooks/input';
import { parseBody, requireOrganization } from './admin-body';

/**
 * Operator API for an organization's webhook endpoints (what `npm run admin -- webhooks …` calls),
 * mounted inside adminRoutes behind its ADMIN_TOKEN check. The same use cases as the tRPC
 * procedures (src/services/webhooks.ts).
 */
export const webhookAdminRoutes = new Hono<HonoEnv>();

const base = '/organizations/:orgId/webhooks';

async function scopeOf(c: {
  var: HonoEnv['Variables'];
  env: HonoEnv['Bindings'];
  req: { param: (k: 'orgId') => string };
}) {
  const organizationId = c.req.param('orgId');
  await requireOrganization(c.var.db, organizationId);
  return { db: c.var.db, env: c.env, organizationId };
}

function parseQuery<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('BAD_REQUEST', describeIssues(parsed.error));
  return parsed.data;
}

webhookAdminRoutes.post(base, async (c) =>
  c.json(await createWebhookEndpoint(await scopeOf(c), await parseBody(c.req.raw, createEndpointInput)), 201),
);

webhookAdminRoutes.get(base, async (c) => {
  const scope = await scopeOf(c);
  const rows = await listWebhookEndpoints(scope.db, scope.organizationId, { limit: 100 });
  return c.json(rows.map(webhookEndpointView));
});

webhookAdminRoutes.patch(`${base}/:id`, async (c) => {
  const body = await parseBody(c.req.raw, updateEndpointInput.omit({ id: true }));
  return c.json(await updateWebhook(await scopeOf(c), { ...body, id: c.req.param('id') }));
});

webhookAdminRoutes.post(`${base}/:id/rotate-secret`, async (c) =>
  c.json(await rotateWebhook(await scopeOf(c), c.req.param('id'))),
);

webhookAdminRoutes.delete(`${base}/:id`, async (c) => c.json(await deleteWebhook(await scopeOf(c), c.req.param('id'))));

webhookAdminRoutes.get(`${base}/:id/deliveries`, async (c) => {
  const scope = await scopeOf(c);
  const input = parseQuery(listDeliveriesInput, {
    endpointId: c.req.param('id'),
    status: c.req.query('status'),
    limit: c.req.query('limit') === undefined ? undefined : Number(c.req.query('limit')),
    cursor: c.req.query('cursor'),
  });
  const rows = await listDeliveries(scope.db, scope.organizationId, input);
  return c.json(rows.map(webhookDeliveryView));
});

webhookAdminRoutes.post(`${base}/deliveries/:deliveryId/replay`, async (c) =>
  c.json(await replayWebhookDelivery(await scopeOf(c), c.req.param('deliveryId'))),
);
