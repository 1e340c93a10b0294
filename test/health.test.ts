import { describe, expect, it } from 'vitest';
import { request } from './helpers/api';

describe('GET /health', () => {
  it('reports the database reachable', async () => {
    const res = await request('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', database: 'ok' });
  });
});
