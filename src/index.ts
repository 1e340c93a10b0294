import { createApp } from './app';
import type { Env } from './env';
import { scheduled } from './scheduled';
import { queue as ingestQueue } from './sources/ingest';
import { consumeWebhookBatch, WEBHOOK_QUEUE_NAME } from './webhooks/consume';

/** Durable Object classes are exported from the main module (wrangler.toml names them). */
export { ChatSession } from './durable/chat-session';

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled,
  // Webhook deliveries (src/webhooks); knowledge-source ingestion (src/sources/ingest.ts) and its
  // dead-letter queue, off the request path.
  queue: (batch, env, ctx) =>
    batch.queue === WEBHOOK_QUEUE_NAME ? consumeWebhookBatch(batch, env) : ingestQueue(batch, env, ctx),
} satisfies ExportedHandler<Env>;
