import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { loadConfig } from './config';
import { createDb } from './db/client';
import { AppError, errorResponse } from './errors';
import type { HonoEnv } from './hono-env';
import { requestContext } from './request-context';
import { adminRoutes } from './routes/admin';
import { refuseForeignBrowserOrigins } from './routes/browser-origin';
import { healthRoutes } from './routes/health';
import { openAiRoutes } from './routes/openai';
import { openApiRoutes } from './routes/openapi';
import { playgroundRoutes } from './routes/playground';
import { uiChatRoutes } from './routes/ui-chat';
import { widgetRoutes } from './routes/widget';
import { widgetPreviewRoutes } from './routes/widget-preview';
import { createServices, type ServiceOverrides } from './services';
import { mountTrpc } from './trpc/mount';

export type AppOptions = { services?: ServiceOverrides };

/** Handlers that return a Response of their own (tRPC, streams) would drop the header requestId() set. */
const keepRequestIdHeader: MiddlewareHandler<HonoEnv> = async (c, next) => {
  await next();
  if (!c.res.headers.has('x-request-id')) c.header('X-Request-Id', c.var.requestId);
};

/** Closed by default: browsers may call the API only from origins listed in CORS_ORIGINS. */
const apiCors: MiddlewareHandler<HonoEnv> = (c, next) => {
  const allowed = c.var.config.corsOrigins;
  if (allowed.length === 0) return next();
  return cors({
    origin: allowed,
    allowHeaders: ['content-type', 'x-api-key', 'x-organization-id', 'idempotency-key', 'last-event-id'],
    // X-Request-Id: so a page can show the id a user should quote when reporting a problem.
    exposeHeaders: ['retry-after', 'x-request-id'],
    maxAge: 600,
  })(c, next);
};

/** Oversized bodies are refused from Content-Length (or while streaming) before anything parses them. */
const apiBodyLimit: MiddlewareHandler<HonoEnv> = (c, next) => {
  const maxSize = c.var.config.limits.maxBodyBytes;
  return bodyLimit({
    maxSize,
    onError: (c) =>
      errorResponse(c, new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${maxSize} bytes.`)),
  })(c, next);
};

export function createApp(options: AppOptions = {}) {
  const app = new Hono<HonoEnv>();

  // First, so every response (errors included) carries X-Request-Id and every log line can name it.
  // A client's own id is kept only when it is short and plain (≤ 255 of [A-Za-z0-9_=-]).
  app.use('*', requestId(), keepRequestIdHeader);
  // Per-request clients from env: nothing lives at module scope. A malformed setting is a 503 naming it.
  app.use('*', async (c, next) => {
    c.set('config', loadConfig(c.env));
    c.set('db', createDb(c.env));
    c.set('services', createServices(c.env, options.services));
    await next();
  });

  app.route('/', playgroundRoutes);
  app.route('/', widgetPreviewRoutes);

  app.use('/api/*', apiCors);
  // Secret keys and the admin token never work from a page on an origin not allowed above.
  app.use('/api/*', refuseForeignBrowserOrigins);
  app.use('/admin/*', refuseForeignBrowserOrigins);

  app.route('/', healthRoutes);
  app.route('/', openApiRoutes);
  app.route('/', widgetRoutes);
  app.route('/admin/v1', adminRoutes);
  // OpenAI-compatible (Bearer key, errors in OpenAI's shape, its own body limit): src/routes/openai.ts.
  app.route('/v1', openAiRoutes);

  app.use('/api/*', apiBodyLimit);

  app.route('/api/chat', uiChatRoutes);

  app.use(
    '/api/trpc/*',
    mountTrpc(() => '/api/trpc', requestContext),
  );

  app.notFound((c) =>
    errorResponse(c, new AppError('NOT_FOUND', `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`)),
  );
  app.onError((error, c) => errorResponse(c, error));
  return app;
}
