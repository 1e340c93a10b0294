import { describe, expect, it } from 'vitest';
import { request } from './helpers/api';
import { fetchWithEnv } from './helpers/worker';

/** The playground's page and its dev-only demo endpoint; the page itself is tested in test/e2e/. */
describe('GET / (playground)', () => {
  it('serves one self-contained HTML page under a strict CSP', async () => {
    const res = await request<string>('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(res.body).toContain(`<script nonce="${nonce}">`);
    // Nothing loaded from elsewhere: no external scripts, styles, fonts or images.
    expect(res.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(res.body).not.toMatch(/@import|url\(/);
    // It ships in the Worker bundle: keep it small.
    expect(new TextEncoder().encode(res.body).length).toBeLessThan(48 * 1024);
    // Outside npm run dev the page does not even ask for demo credentials.
    expect(res.body).toContain('<body data-demo="">');
    // A fresh nonce per response.
    const again = await request('/');
    expect(again.headers.get('content-security-policy')).not.toBe(csp);
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
