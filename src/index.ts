import { createApp } from './app';
import type { Env } from './env';
import { scheduled } from './scheduled';
import { queue } from './sources/ingest';

/** Durable Object classes are exported from the main module (wrangler.toml names them). */
export { ChatSession } from './durable/chat-session';

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled,
  // Knowledge-source ingestion (src/sources/ingest.ts), off the request path.
  queue,
} satisfies ExportedHandler<Env>;
