import { createApp } from './app';
import type { Env } from './env';
import { scheduled } from './scheduled';
import { knowledgeQueue } from './services/knowledge-queue';
import { consumeWebhookBatch, WEBHOOK_QUEUE_NAME } from './webhooks/consume';

/** Durable Object classes are exported from the main module (wrangler.toml names them). */
export { ChatSession } from './durable/chat-session';

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled,
  // Webhook deliveries (src/webhooks); knowledge ingestion (sources and long attachments,
  // src/services/knowledge-queue.ts) and its dead-letter queue, off the request path.
  queue: (batch, env, ctx) =>
    batch.queue === WEBHOOK_QUEUE_NAME ? consumeWebhookBatch(batch, env) : knowledgeQueue(batch, env, ctx),
} satisfies ExportedHandler<Env>;
