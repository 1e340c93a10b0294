import { describe, expect, it } from 'vitest';
import { admin, authHeaders, createTenant, data, query, request } from './helpers/api';

/** Authentication: X-API-Key + X-Organization-ID on every procedure. */
/** The operator API's answers about API keys (docs/api-contract.md). */
type NewKey = { id: string; key: string };
type ListedKey = { id: string; prefix: string; lastUsedAt: string | null };

describe('API key authentication', () => {
  it('accepts a valid key for its own organization', async () => {
    const tenant = await createTenant();
    const res = await query('chat.listSessions', {}, { tenant });
    expect(res.status).toBe(200);
    expect(res.body.result?.data).toEqual([]);
  });

  it('rejects a request without headers with 401 and says which header is missing', async () => {
    const res = await query('chat.listSessions', {});
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/X-API-Key/);
    expect(res.body.error?.data.code).toBe('UNAUTHORIZED');
  });

  it('rejects a key without an organization header with 401', async () => {
    const tenant = await createTenant();
    const res = await query('chat.listSessions', {}, { headers: { 'x-api-key': tenant.apiKey } });
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/X-Organization-ID/);
  });

  it('rejects an unknown key with 401', async () => {
    const tenant = await createTenant();
    const res = await query('chat.listSessions', {}, { tenant: { ...tenant, apiKey: `${tenant.apiKey}x` } });
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toBe('Invalid API key.');
  });

  it("rejects a valid key sent with another organization's id with 403", async () => {
    const a = await createTenant('A');
    const b = await createTenant('B');
    const res = await query(
      'chat.listSessions',
      {},
      { headers: { ...authHeaders(a), 'x-organization-id': b.organizationId } },
    );
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toMatch(/not valid for the organization/);
  });

  it('rejects a revoked key with 401, even right after it was used (cache)', async () => {
    const tenant = await createTenant();
    expect((await query('chat.listSessions', {}, { tenant })).status).toBe(200);
    const revoked = await admin(`/organizations/${tenant.organizationId}/api-keys/${tenant.apiKeyId}/revoke`, {});
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const res = await query('chat.listSessions', {}, { tenant });
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/revoked/);
  });

  it('stores keys only as hashes and shows a key in full only once', async () => {
    const tenant = await createTenant();
    const second = await admin<NewKey>(`/organizations/${tenant.organizationId}/api-keys`, { name: 'second' });
    expect(second.status).toBe(201);
    expect(second.body.key).toMatch(/^sk_[A-Za-z0-9_-]{32}$/);
    const list = await admin<ListedKey[]>(`/organizations/${tenant.organizationId}/api-keys`);
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(2);
    const serialized = JSON.stringify(list.body);
    expect(serialized).not.toContain(second.body.key);
    expect(serialized).not.toContain(tenant.apiKey);
    expect(list.body[0]).not.toHaveProperty('hash');
    expect(list.body.map((k) => k.prefix)).toContain(second.body.key.slice(0, 10));
    // The new key works.
    const res = await query('chat.listSessions', {}, { tenant: { ...tenant, apiKey: second.body.key } });
    expect(data(res)).toEqual([]);
  });

  it('records last use in the background', async () => {
    const tenant = await createTenant();
    await query('chat.listSessions', {}, { tenant });
    let lastUsedAt: string | null = null;
    for (let i = 0; i < 50 && !lastUsedAt; i++) {
      const list = await admin<ListedKey[]>(`/organizations/${tenant.organizationId}/api-keys`);
      lastUsedAt = list.body[0]?.lastUsedAt ?? null;
      if (!lastUsedAt) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(lastUsedAt).toEqual(expect.any(String));
  });
});

describe('operator API', () => {
  it('requires the admin token', async () => {
    const res = await request('/admin/v1/organizations', { headers: { authorization: 'Bearer wrong-token' } });
    expect(res.status).toBe(401);
  });

  it('refuses to revoke a key through another organization', async () => {
    const a = await createTenant('A');
    const b = await createTenant('B');
    const res = await admin(`/organizations/${b.organizationId}/api-keys/${a.apiKeyId}/revoke`, {});
    expect(res.status).toBe(404);
    expect((await query('chat.listSessions', {}, { tenant: a })).status).toBe(200);
  });
});
