import type { MiddlewareHandler } from 'hono';
import { AppError, errorResponse } from '../errors';
import type { HonoEnv } from '../hono-env';

/**
 * Secret credentials (API keys, the admin token) never work from a web page on an origin that is not
 * allowed: a request carrying an Origin other than this server's own (the playground) or one listed in
 * CORS_ORIGINS is refused before authentication. Browsers always send Origin on cross-origin requests,
 * so a secret key pasted into some website fails loudly instead of working from there. Servers send no
 * Origin and are unaffected. Websites use publishable keys and the widget endpoint instead.
 */
export const refuseForeignBrowserOrigins: MiddlewareHandler<HonoEnv> = async (c, next) => {
  const origin = c.req.header('origin');
  if (!origin || origin === new URL(c.req.url).origin) return next();
  if (c.var.config.corsOrigins.includes(origin)) return next();
  return errorResponse(
    c,
    new AppError(
      'FORBIDDEN',
      `Requests from ${origin.slice(0, 200)} are refused: secret keys work from a browser only on origins in CORS_ORIGINS. Websites embed the widget with a publishable key.`,
    ),
  );
};
