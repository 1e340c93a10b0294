import { Hono } from 'hono';
import type { HonoEnv } from '../hono-env';
import { PAGE_CSP } from './playground';

/**
 * GET /playground/widget: previews the widget for a persona on a page of this server's own origin,
 * exactly as a website embeds it (the same script tag). The key must allow this server's origin.
 * Values reach the page only after matching a strict pattern, so nothing from the query is markup.
 */
export const widgetPreviewRoutes = new Hono<HonoEnv>();

const KEY = /^pub_[\w-]{1,100}$/;
const ID = /^[\w-]{1,100}$/;
const COLOR = /^#[0-9a-fA-F]{3,8}$/;

widgetPreviewRoutes.get('/playground/widget', (c) => {
  const key = c.req.query('key') ?? '';
  const persona = c.req.query('persona') ?? '';
  const color = c.req.query('color') ?? '';
  const ok = KEY.test(key) && ID.test(persona);
  const origin = new URL(c.req.url).origin;
  const colorAttr = COLOR.test(color) ? ` data-color="${color}"` : '';
  const embed = ok
    ? `<script src="/widget.js" data-key="${key}" data-persona="${persona}"${colorAttr} async></script>`
    : '';
  const problem = (key || persona) && !ok ? '<p role="alert">Give a publishable key (pub_…) and a persona id.</p>' : '';
  // The playground's policy, except that the form submits to this page.
  c.header('content-security-policy', PAGE_CSP.replace("form-action 'none'", "form-action 'self'"));
  c.header('x-content-type-options', 'nosniff');
  c.header('cache-control', 'no-store');
  return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Widget preview</title><link rel="stylesheet" href="/ui/preview.css"></head>
<body>
<h1>Widget preview</h1>
<p>The chat widget as a website shows it, served from this page's origin (<code>${origin}</code>), which the
key must allow. Back to the <a href="/">playground</a>.</p>
<form method="get" action="/playground/widget">
<p><label>Publishable key <input name="key" value="${ok ? key : ''}" size="40" required></label></p>
<p><label>Persona id <input name="persona" value="${ok ? persona : ''}" size="40" required></label></p>
<p><label>Colour <input name="color" value="${colorAttr ? color : ''}" placeholder="#2563eb"></label></p>
<p><button type="submit">Preview</button></p>
</form>
${problem}
<p>Embed code:</p>
<pre>&lt;script src="${origin}/widget.js" data-key="${ok ? key : 'pub_…'}" data-persona="${ok ? persona : 'persona_…'}" async&gt;&lt;/script&gt;</pre>
${embed}
</body></html>`);
});
