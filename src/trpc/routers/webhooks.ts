import type { AuthedContext } from '../../context';
import { listDeliveries } from '../../db/queries/webhook-deliveries';
import { listWebhookEndpoints } from '../../db/queries/webhook-endpoints';
import {
  createWebhookEndpoint,
  deleteWebhook,
  getWebhook,
  replayWebhookDelivery,
  rotateWebhook,
  updateWebhook,
} from '../../services/webhooks';
import { webhookDeliveryView, webhookEndpointView } from '../../views/webhook';
import {
  createEndpointInput,
  deliveryRef,
  endpointRef,
  listDeliveriesInput,
  listEndpointsInput,
  updateEndpointInput,
} from '../../webhooks/input';
import { authedProcedure, router } from '../init';

const scope = (ctx: AuthedContext) => ({ db: ctx.db, env: ctx.env, organizationId: ctx.auth.organizationId });

/** Webhook endpoints and their deliveries (README "Webhooks"). Secret keys only, never the widget. */
export const webhooksRouter = router({
  /** Creates an endpoint; the answer holds its `whsec_` secret, shown this once. */
  create: authedProcedure
    .input(createEndpointInput)
    .mutation(({ ctx, input }) => createWebhookEndpoint(scope(ctx), input)),

  list: authedProcedure.input(listEndpointsInput).query(async ({ ctx, input }) => {
    const rows = await listWebhookEndpoints(ctx.db, ctx.auth.organizationId, input);
    return rows.map(webhookEndpointView);
  }),

  get: authedProcedure.input(endpointRef).query(({ ctx, input }) => getWebhook(scope(ctx), input.id)),

  /** Changes the URL, events or description; `enabled` disables or re-enables it (clearing failures). */
  update: authedProcedure.input(updateEndpointInput).mutation(({ ctx, input }) => updateWebhook(scope(ctx), input)),

  /** A new secret, effective at once; the old one stops verifying. */
  rotateSecret: authedProcedure.input(endpointRef).mutation(({ ctx, input }) => rotateWebhook(scope(ctx), input.id)),

  delete: authedProcedure.input(endpointRef).mutation(({ ctx, input }) => deleteWebhook(scope(ctx), input.id)),

  /** An endpoint's deliveries, newest first: status, attempts, last response code and time. */
  listDeliveries: authedProcedure.input(listDeliveriesInput).query(async ({ ctx, input }) => {
    const rows = await listDeliveries(ctx.db, ctx.auth.organizationId, input);
    return rows.map(webhookDeliveryView);
  }),

  /** Sends a delivery again: same event and webhook-id, a fresh series of attempts. */
  replayDelivery: authedProcedure
    .input(deliveryRef)
    .mutation(({ ctx, input }) => replayWebhookDelivery(scope(ctx), input.id)),
});
