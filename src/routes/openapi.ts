import { Hono } from 'hono';
import type { HonoEnv } from '../hono-env';
import { openApiJson } from '../openapi/document';

/** GET /openapi.json (the generated document) and GET /docs (a page that renders it). */
export const openApiRoutes = new Hono<HonoEnv>();

openApiRoutes.get('/openapi.json', (c) => {
  c.header('cache-control', 'public, max-age=300');
  return c.body(openApiJson(), 200, { 'content-type': 'application/json; charset=utf-8' });
});

/** Self-contained: no CDN, nothing but /openapi.json fetched; strict CSP with a nonce. */
const DOCS_SCRIPT = `
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; };
fetch('/openapi.json').then((r) => r.json()).then((doc) => {
  const main = document.querySelector('main');
  main.append(el('h1', doc.info.title + ' ' + doc.info.version), el('p', doc.info.description));
  const resolve = (s) => (s && s.$ref ? doc.components.schemas[s.$ref.split('/').pop()] : s);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const section = el('section');
      section.append(el('h2', method.toUpperCase() + ' ' + path), el('p', op.summary), el('p', op.description || '', 'muted'));
      const param = (op.parameters || []).find((p) => p.name === 'input');
      const body = op.requestBody && op.requestBody.content['application/json'].schema;
      const schema = param ? resolve(param.content['application/json'].schema) : body && body.anyOf ? resolve(body.anyOf[0]) : body;
      if (schema) { const d = el('details'); d.append(el('summary', 'input schema'), el('pre', JSON.stringify(schema, null, 2))); section.append(d); }
      main.append(section);
    }
  }
}).catch((e) => document.querySelector('main').append(el('p', 'Could not load /openapi.json: ' + e)));
`;

openApiRoutes.get('/docs', (c) => {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  c.header(
    'content-security-policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  );
  c.header('x-content-type-options', 'nosniff');
  return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference</title>
<style nonce="${nonce}">body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem}h2{font:600 1rem ui-monospace,monospace;margin:1.5rem 0 .25rem}.muted{color:#555}pre{background:#f4f4f4;padding:.75rem;overflow:auto;font-size:13px}section{border-top:1px solid #ddd}</style>
</head><body><main><p><a href="/openapi.json">openapi.json</a></p></main>
<script nonce="${nonce}">${DOCS_SCRIPT}</script></body></html>`);
});
