/** The delivery queue's message: which delivery to attempt. Ids only; the row holds the rest. */
export type WebhookJob = { organizationId: string; deliveryId: string };

export function asWebhookJob(body: unknown): WebhookJob | undefined {
  const b = body as Partial<WebhookJob> | null;
  return typeof b?.organizationId === 'string' && typeof b.deliveryId === 'string'
    ? { organizationId: b.organizationId, deliveryId: b.deliveryId }
    : undefined;
}
