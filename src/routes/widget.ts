import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { sha256Hex } from '../auth/keys';
import { lookupPublishableKey, originAllowed, pageOrigin } from '../auth/publishable';
import { visitorAttachmentPolicy, WIDGET_BASE_BODY_BYTES, widgetBodyLimit } from '../auth/visitor-attachments';
import type { Context } from '../context';
import { AppError, errorResponse } from '../errors';
import type { HonoEnv } from '../hono-env';
import { requestContext } from '../request-context';
import { mountTrpc } from '../trpc/mount';
import { WIDGET_SOURCE } from './ui-assets';

/** The widget's API version: the script calls /widget/v1/…; its ETag is a hash of its text. */
export const WIDGET_VERSION = 'v1';
/**
 * Widget requests are small chat messages: anything bigger than this is refused before parsing, unless
 * the key allows attachments (then its allowance in base64 is added, bounded in visitor-attachments.ts).
 */
export const WIDGET_MAX_BODY_BYTES = WIDGET_BASE_BODY_BYTES;

const ALLOW_HEADERS = 'content-type, x-visitor-token, last-event-id';

/**
 * The embeddable widget: its script, and the API it calls under /widget/v1/<publishable key>/. The key
 * is in the path (it is not a secret) so that CORS preflights, which carry no headers of ours, can be
 * answered exactly for that key's allowed origins; everything else under /api stays closed.
 */
export const widgetRoutes = new Hono<HonoEnv>();

widgetRoutes.get('/widget.js', async (c) => {
  // Hashing 12 KB per request costs microseconds and keeps nothing at module scope.
  const etag = `"widget-${WIDGET_VERSION}-${(await sha256Hex(WIDGET_SOURCE)).slice(0, 16)}"`;
  const headers = {
    'content-type': 'text/javascript; charset=utf-8',
    // Cacheable by browsers and Cloudflare's edge; a new version shows within the hour.
    'cache-control': 'public, max-age=3600, stale-while-revalidate=86400',
    etag,
    'x-content-type-options': 'nosniff',
    'cross-origin-resource-policy': 'cross-origin',
    'access-control-allow-origin': '*',
  };
  if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
  return c.body(WIDGET_SOURCE, 200, headers);
});

function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': ALLOW_HEADERS,
    'access-control-expose-headers': 'retry-after, x-request-id',
    'access-control-max-age': '600',
    vary: 'Origin',
  };
}

/** CORS opens only for the key's allowed origins: a preflight from any other origin gets 403 and no CORS headers. */
widgetRoutes.use('/widget/v1/:key/*', async (c, next) => {
  const origin = c.req.header('origin');
  const row = await lookupPublishableKey(c.var.db, c.var.config.auth.cacheTtlMs, c.req.param('key'));
  const allowed = row !== null && origin !== undefined && originAllowed(row, origin) ? origin : null;
  if (c.req.method === 'OPTIONS') {
    return allowed ? c.body(null, 204, corsHeaders(allowed)) : c.body(null, 403, { vary: 'Origin' });
  }
  await next();
  if (allowed) for (const [name, value] of Object.entries(corsHeaders(allowed))) c.res.headers.set(name, value);
  else c.res.headers.append('vary', 'Origin');
});

/**
 * Whether this page may use the key. Readable from any origin (it says only yes or no about a
 * non-secret key), so the widget can tell a visitor clearly why it cannot start instead of failing
 * on a blocked request.
 */
widgetRoutes.get('/widget/v1/:key/check', async (c) => {
  const origin = pageOrigin(c.req.raw.headers, c.req.url) ?? undefined;
  const row = c.var.config.auth.visitorTokenSecret
    ? await lookupPublishableKey(c.var.db, c.var.config.auth.cacheTtlMs, c.req.param('key'))
    : null;
  const persona = c.req.query('persona');
  let message = '';
  if (!c.var.config.auth.visitorTokenSecret) message = 'The chat widget is not enabled on this server.';
  else if (!row) message = 'This chat widget key is not valid (unknown or revoked).';
  else if (!originAllowed(row, origin)) message = `This chat is not available on ${origin ?? 'this page'}.`;
  else if (persona !== undefined && !row.allowedPersonaIds.includes(persona))
    message = 'This chat widget is not set up for that persona.';
  // What the visitor may attach, so the widget offers a file button only where it would be accepted.
  const attachments = message === '' && row ? visitorAttachmentPolicy(row) : null;
  return c.json({ allowed: message === '', message, attachments }, 200, {
    'access-control-allow-origin': origin ?? '*',
    vary: 'Origin',
    'cache-control': 'no-store',
  });
});

widgetRoutes.use('/widget/v1/:key/trpc/*', async (c, next) => {
  // The key is cached per isolate (the CORS middleware above just looked it up): no second query.
  const maxSize = widgetBodyLimit(
    await lookupPublishableKey(c.var.db, c.var.config.auth.cacheTtlMs, c.req.param('key') ?? ''),
  );
  return bodyLimit({
    maxSize,
    onError: (c) =>
      errorResponse(
        c,
        new AppError(
          'PAYLOAD_TOO_LARGE',
          maxSize > WIDGET_MAX_BODY_BYTES
            ? `Widget requests with this key are limited to ${maxSize} bytes; the attached file is too large.`
            : `Widget requests are limited to ${WIDGET_MAX_BODY_BYTES} bytes.`,
        ),
      ),
  })(c, next);
});

widgetRoutes.use(
  '/widget/v1/:key/trpc/*',
  mountTrpc(
    (c) => `/widget/v1/${c.req.param('key') ?? ''}/trpc`,
    (c): Context => ({
      ...requestContext(c),
      widget: { key: c.req.param('key') ?? '', origin: pageOrigin(c.req.raw.headers, c.req.url) },
    }),
  ),
);
