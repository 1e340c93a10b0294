import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { mapKnownError } from '../src/errors';
import { describeError } from '../src/log';
import { request } from './helpers/api';

/** Errors as @neondatabase/serverless raises them: non-400 answers as text, 400 with Neon's fields. */
function serverError(status: number, body = '{"message":"x","code":""}') {
  return Object.assign(new Error(`Server error (HTTP status ${status}): ${body}`), { name: 'NeonDbError' });
}
function neon400(message: string, code: string) {
  return Object.assign(new Error(message), { name: 'NeonDbError', code });
}
const wrapped = (cause: Error, params: unknown[] = ['user text']) => new DrizzleQueryError('select $1', params, cause);

describe('database failures map to errors a client can act on', () => {
  it('507 (result too large) is a non-retryable 413, never "unavailable"', () => {
    const mapped = mapKnownError(wrapped(serverError(507)));
    expect(mapped).toMatchObject({ appCode: 'RESULT_TOO_LARGE', status: 413, retryAfter: undefined });
  });

  it('413 from the database (statement too large) is PAYLOAD_TOO_LARGE', () => {
    expect(mapKnownError(wrapped(serverError(413)))).toMatchObject({ appCode: 'PAYLOAD_TOO_LARGE', status: 413 });
  });

  it('outages are 503 with Retry-After: Neon 5xx, fetch failures, connection and auth SQLSTATEs, compute unreachable', () => {
    for (const error of [
      serverError(500),
      serverError(503),
      new Error('Error connecting to database: TypeError: fetch failed'),
      neon400('password authentication failed for user "app"', '28P01'),
      neon400('terminating connection due to administrator command', '57P01'),
      neon400('The endpoint has been disabled. Enable it using Neon API and retry.', ''),
      neon400("Couldn't connect to compute node", ''),
    ]) {
      expect(mapKnownError(wrapped(error)), error.message).toMatchObject({
        appCode: 'DATABASE_UNAVAILABLE',
        status: 503,
        retryAfter: 5,
      });
    }
  });

  it('user text quoted in a wrapper cannot pose as an outage', () => {
    const sql = neon400('duplicate key', '23505');
    expect(mapKnownError(wrapped(sql, ['Server error (HTTP status 503): Error connecting to database']))).toBe(
      undefined,
    );
  });

  it('Neon refusing an unpaired surrogate (400, empty code) is bad input, not an outage', () => {
    expect(mapKnownError(wrapped(neon400('lone leading surrogate in hex escape at line 1', '')))).toMatchObject({
      appCode: 'BAD_REQUEST',
    });
  });

  it('logs name the failure without its values', () => {
    const logged = describeError(
      wrapped(
        Object.assign(neon400('invalid input syntax for type integer: "secret-value"', '22P02'), {
          detail: 'Key (id)=(secret-id)',
          constraint: 'messages_pkey',
        }),
        ['secret-param'],
      ),
    );
    expect(logged).toContain('code=22P02');
    expect(logged).toContain('constraint=messages_pkey');
    expect(logged).not.toMatch(/secret/);
  });

  it('the health check tells when to retry while the database is down', async () => {
    const res = await request('/health', {}, { LOCAL_SQL_ENDPOINT: 'http://127.0.0.1:9/sql' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('a DATABASE_URL the endpoint refuses (no password) answers 503, not 500', async () => {
    const res = await request(
      '/api/trpc/chat.listSessions?input=%7B%7D',
      {
        headers: { 'x-api-key': `pk_${crypto.randomUUID()}`, 'x-organization-id': 'org_x' },
      },
      { DATABASE_URL: 'postgresql://app@db.localhost:5432/app', AUTH_CACHE_TTL_SECONDS: '0' },
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });
});
