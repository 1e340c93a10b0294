import { describe, expect, it } from 'vitest';
import { request } from './helpers/api';
import { fetchWithEnv } from './helpers/worker';

/** The playground's page, its files and its dev-only demo endpoint; the page itself is tested in test/e2e/. */
describe('GET / (playground)', () => {
  it('serves the page under a strict CSP, with no inline script or style', async () => {
    const res = await request<string>('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'none'",
      "script-src 'self';",
      "style-src 'self';",
      "connect-src 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ])
      expect(csp).toContain(directive);
    expect(csp).not.toMatch(/unsafe-|nonce-|sha256-/);
    // Scripts only as files: every <script> has a src of this origin and no body.
    const scripts = [...res.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\ssrc="\/ui\//);
      expect(body).toBe('');
    }
    // Styles only as files: no <style> element, no style attribute, and no inline event handler.
    expect(res.body).not.toMatch(/<style\b/i);
    expect(res.body).not.toMatch(/\sstyle\s*=/i);
    expect(res.body).not.toMatch(/\son[a-z]+\s*=/i);
    // Nothing loaded from elsewhere: no external scripts, styles, fonts or images.
    expect(res.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    // Outside npm run dev the page does not even ask for demo credentials.
    expect(res.body).toContain('<body data-demo="">');
  });

  it('serves every file the page loads (and their imports) from /ui/, revalidated by ETag', async () => {
    const page = await request<string>('/');
    const queue = [...page.body.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(queue).toEqual(expect.arrayContaining(['/ui/playground/main.js', '/ui/playground/playground.css']));
    const seen = new Set<string>();
    let bytes = new TextEncoder().encode(page.body).length;
    while (queue.length > 0) {
      const path = queue.shift() ?? '';
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await request<string>(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(path.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.body).not.toMatch(/@import|url\(/);
      bytes += new TextEncoder().encode(res.body).length;
      // A module's relative imports are files served next to it, as they are in src/ui.
      for (const [, spec] of res.body.matchAll(/^import\s[^;]*?from\s+'(\.{1,2}\/[^']+)';/gm))
        queue.push(new URL(spec ?? '', `http://x${path}`).pathname);
    }
    expect(seen).toContain('/ui/sse.js');
    // It ships in the Worker bundle: keep it small (JSDoc types included; ~17 KB gzipped today).
    expect(bytes).toBeLessThan(80 * 1024);

    const first = await request('/ui/playground/main.js');
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"ui-[0-9a-f]{16}"$/);
    expect((await request('/ui/playground/main.js', { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('answers 404 for anything else under /ui/', async () => {
    for (const path of [
      '/ui/nope.js',
      '/ui/playground/',
      '/ui/constructor',
      '/ui/tsconfig.json',
      '/ui/..%2Fwrangler.toml',
    ])
      expect((await request(path)).status, path).toBe(404);
  });
});

describe('GET /playground/demo.json (npm run dev only)', () => {
  async function demo(url: string, vars: Record<string, string>) {
    const { res, done } = await fetchWithEnv(new Request(url), vars);
    await done();
    return res;
  }

  it('does not exist without PLAYGROUND_DEMO_URL, as in production', async () => {
    const res = await request('/playground/demo.json');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { data: { code: 'NOT_FOUND' } } });
  });

  it('does not exist for a non-loopback host or a non-loopback source, even with the var set', async () => {
    const local = { PLAYGROUND_DEMO_URL: 'http://127.0.0.1:9/demo.json' };
    expect((await demo('https://api.example.com/playground/demo.json', local)).status).toBe(404);
    const remote = { PLAYGROUND_DEMO_URL: 'https://attacker.example/demo.json' };
    expect((await demo('http://127.0.0.1:8787/playground/demo.json', remote)).status).toBe(404);
  });
});
