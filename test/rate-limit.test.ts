import { describe, expect, it } from 'vitest';
import { createTenant, query } from './helpers/api';

describe('per-API-key rate limiting', () => {
  it('answers 429 with Retry-After past the limit, per key (in-isolate window when no binding)', async () => {
    const a = await createTenant();
    const b = await createTenant();
    const env = { API_RATE_LIMITER: undefined, RATE_LIMIT_PER_MINUTE: '3' };
    for (let i = 0; i < 3; i++) expect((await query('chat.listSessions', {}, { tenant: a, env })).status).toBe(200);
    const limited = await query('chat.listSessions', {}, { tenant: a, env });
    expect(limited.status).toBe(429);
    expect(limited.body.error?.message).toMatch(/Too many requests for this API key/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another key is counted on its own.
    expect((await query('chat.listSessions', {}, { tenant: b, env })).status).toBe(200);
  });

  it('asks the Rate Limiting binding when there is one, keyed by API key', async () => {
    const tenant = await createTenant();
    const keys: string[] = [];
    const binding = {
      limit: async ({ key }: { key: string }) => {
        keys.push(key);
        return { success: keys.length <= 1 };
      },
    } as RateLimit;
    const env = { API_RATE_LIMITER: binding };
    expect((await query('chat.listSessions', {}, { tenant, env })).status).toBe(200);
    const limited = await query('chat.listSessions', {}, { tenant, env });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(keys).toEqual([tenant.apiKeyId, tenant.apiKeyId]);
  });

  it('does not count requests that fail authentication against a key', async () => {
    const tenant = await createTenant();
    const env = { API_RATE_LIMITER: undefined, RATE_LIMIT_PER_MINUTE: '1' };
    for (let i = 0; i < 3; i++) {
      expect((await query('chat.listSessions', {}, { tenant: { ...tenant, apiKey: 'pk_wrong' }, env })).status).toBe(
        401,
      );
    }
    expect((await query('chat.listSessions', {}, { tenant, env })).status).toBe(200);
  });
});
