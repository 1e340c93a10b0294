import { Hono } from 'hono';
import { LOCAL_SECRET_HEADER } from '../db/client';
import type { Env } from '../env';
import { AppError, errorResponse } from '../errors';
import type { HonoEnv } from '../hono-env';
import { hostnameOfHostHeader, isLoopbackHost, isLoopbackUrl } from '../loopback';
import { PLAYGROUND_HTML, serveUiFile } from './ui-assets';

/**
 * Set by `npm run dev` only (dev/start.ts): a loopback URL answering the demo organization's
 * credentials. Never in wrangler.toml or production secrets; unset, /playground/demo.json is a 404.
 */
type PlaygroundBindings = Env & { PLAYGROUND_DEMO_URL?: string };

const notFound = (path: string) => new AppError('NOT_FOUND', `No route for GET ${path}.`);

/** The playground page at /, the pages' files under /ui/ and, in local development only, the demo credentials. */
export const playgroundRoutes = new Hono<{ Bindings: PlaygroundBindings; Variables: HonoEnv['Variables'] }>();

/**
 * Dev only: both ends loopback, the page used on this machine and the var pointing at dev/start.ts.
 * The Host header is checked itself, not only the URL: a DNS-rebinding page (evil.example resolving
 * to 127.0.0.1) sends its own name there. A browser's Origin, when sent, must be this same server.
 */
function demoEnabled(env: PlaygroundBindings, req: Request): boolean {
  if (!env.PLAYGROUND_DEMO_URL || !isLoopbackUrl(env.PLAYGROUND_DEMO_URL) || !isLoopbackUrl(req.url)) return false;
  const host = req.headers.get('host');
  const hostname = hostnameOfHostHeader(host);
  if (!hostname || !isLoopbackHost(hostname)) return false;
  const origin = req.headers.get('origin');
  if (origin === null) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * The pages' policy: scripts and styles only from files of this origin (no inline script, style
 * element or style attribute, so nothing injected into a page could run or restyle it), API calls only
 * to this origin, and no framing.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

playgroundRoutes.get('/', (c) => {
  c.header('content-security-policy', PAGE_CSP);
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
  c.header('cache-control', 'no-cache');
  // "1" tells the page that /playground/demo.json exists (npm run dev), so it never asks for it elsewhere.
  const demo = demoEnabled(c.env, c.req.raw) ? '1' : '';
  return c.html(PLAYGROUND_HTML.replace('__DEMO__', demo));
});

/** The pages' scripts and styles (src/ui), at the same paths as in that folder. */
playgroundRoutes.get('/ui/*', async (c) => {
  const res = await serveUiFile(c, c.req.path.slice('/ui/'.length));
  return res ?? errorResponse(c, notFound(c.req.path));
});

/**
 * Anywhere but `npm run dev` (production, a var set by mistake, a DNS-rebinding page reaching the
 * dev server under another host name) this answers exactly like an unknown route.
 */
playgroundRoutes.get('/playground/demo.json', async (c) => {
  const source = c.env.PLAYGROUND_DEMO_URL;
  if (!source || !demoEnabled(c.env, c.req.raw)) return errorResponse(c, notFound(c.req.path));
  // The demo endpoint answers only with this start's secret (dev/start.ts).
  const res = await fetch(source, { headers: { [LOCAL_SECRET_HEADER]: c.env.LOCAL_DEV_SECRET ?? '' } }).catch(
    () => null,
  );
  if (!res?.ok) {
    // 503 while dev/start.ts is still creating the demo organization on a first run.
    return c.json({ error: { message: 'The demo organization is not ready yet.' } }, 503, { 'retry-after': '1' });
  }
  const demo = (await res.json()) as { organizationId?: unknown; apiKey?: unknown };
  return c.json({ organizationId: String(demo.organizationId), apiKey: String(demo.apiKey) }, 200, {
    'cache-control': 'no-store',
  });
});
