import { trpcServer } from '@hono/trpc-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { refuseForeignBrowserOrigins } from './auth/browser-origin';
import { loadConfig } from './config';
import type { Context } from './context';
import { createDb } from './db/client';
import { AppError } from './errors';
import type { HonoEnv } from './hono-env';
import { describeError, redact } from './log';
import { requestContext } from './request-context';
import { adminRoutes } from './routes/admin';
import { errorResponse } from './routes/errors';
import { healthRoutes } from './routes/health';
import { openAiRoutes } from './routes/openai';
import { openApiRoutes } from './routes/openapi';
import { playgroundRoutes } from './routes/playground';
import { uiChatRoutes } from './routes/ui-chat';
import { widgetRoutes } from './routes/widget';
import { widgetPreviewRoutes } from './routes/widget-preview';
import { createServices, type ServiceOverrides } from './services';
import { appRouter } from './trpc/router';

export type AppOptions = { services?: ServiceOverrides };

export function createApp(options: AppOptions = {}) {
  const app = new Hono<HonoEnv>();

  // First, so every response (errors included) carries X-Request-Id and every log line can name it.
  app.use('*', requestId());

  app.route('/', playgroundRoutes);
  app.route('/', widgetPreviewRoutes);

  // Closed by default: browsers may call the API only from origins listed in CORS_ORIGINS.
  app.use('/api/*', async (c, next) => {
    const allowed = (c.env.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    if (allowed.length === 0) return next();
    return cors({
      origin: allowed,
      allowHeaders: ['content-type', 'x-api-key', 'x-organization-id', 'idempotency-key', 'last-event-id'],
      exposeHeaders: ['retry-after'],
      maxAge: 600,
    })(c, next);
  });
  // Secret keys and the admin token never work from a page on an origin not allowed above.
  app.use('/api/*', refuseForeignBrowserOrigins);
  app.use('/admin/*', refuseForeignBrowserOrigins);

  // Per-request clients from env: nothing lives at module scope.
  app.use('*', async (c, next) => {
    c.set('config', loadConfig(c.env));
    c.set('db', createDb(c.env));
    c.set('services', createServices(c.env, options.services));
    await next();
  });

  app.route('/', healthRoutes);
  app.route('/', openApiRoutes);
  app.route('/', widgetRoutes);
  app.route('/admin/v1', adminRoutes);
  // OpenAI-compatible (Bearer key, errors in OpenAI's shape, its own body limit): src/routes/openai.ts.
  app.route('/v1', openAiRoutes);

  // Oversized bodies are refused from Content-Length (or while streaming) before anything parses them.
  app.use('/api/*', (c, next) => {
    const maxSize = c.var.config.limits.maxBodyBytes;
    return bodyLimit({
      maxSize,
      onError: (c) =>
        errorResponse(c, new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${maxSize} bytes.`)),
    })(c, next);
  });

  app.route('/api/chat', uiChatRoutes);

  app.use(
    '/api/trpc/*',
    trpcServer({
      endpoint: '/api/trpc',
      router: appRouter,
      // Lets subscriptions be called with POST too, so a streamed send can carry attachments.
      allowMethodOverride: true,
      createContext: (_opts, c): Context => requestContext(c),
      // 429 and 503 tell the client when to come back.
      responseMeta: ({ errors }) => {
        const retryAfter = errors.find((e): e is AppError => e instanceof AppError && e.retryAfter !== undefined);
        return retryAfter ? { headers: new Headers({ 'retry-after': String(retryAfter.retryAfter) }) } : {};
      },
      onError: ({ error, path, ctx }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR' && !(error instanceof AppError)) {
          const env = (ctx as Context | undefined)?.env ?? {};
          console.error(redact(`tRPC ${path ?? '?'} failed`, env), describeError(error.cause ?? error, env));
        }
      },
    }),
  );

  app.notFound((c) =>
    errorResponse(c, new AppError('NOT_FOUND', `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`)),
  );
  app.onError((error, c) => errorResponse(c, error));
  return app;
}
