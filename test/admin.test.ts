/**
 * The operator API's organization calls: update (name, daily model-call cap, idle-archive days) and
 * delete with everything the organization owns. Key management is in auth.test.ts.
 */
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { admin, createTenant, data, mutate, query, request, type Tenant } from './helpers/api';
import { conversation } from './helpers/factories';

const db = createDb(env);
const adminHeaders = { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' };

function patch(orgId: string, body: unknown) {
  return request(`/admin/v1/organizations/${orgId}`, {
    method: 'PATCH',
    headers: adminHeaders,
    body: JSON.stringify(body),
  });
}
function remove(orgId: string, confirm?: string) {
  const qs = confirm === undefined ? '' : `?confirm=${encodeURIComponent(confirm)}`;
  return request(`/admin/v1/organizations/${orgId}${qs}`, { method: 'DELETE', headers: adminHeaders });
}

/** Rows each table holds for an organization, read straight from the database. */
async function rowsOf(orgId: string) {
  const result = await db.execute(sql`
    select
      (select count(*) from organizations where id = ${orgId})::int as organizations,
      (select count(*) from api_keys where organization_id = ${orgId})::int as api_keys,
      (select count(*) from personas where organization_id = ${orgId})::int as personas,
      (select count(*) from chat_sessions where organization_id = ${orgId})::int as sessions,
      (select count(*) from messages where organization_id = ${orgId})::int as messages,
      (select count(*) from attachments where organization_id = ${orgId})::int as attachments,
      (select count(*) from idempotency_keys where organization_id = ${orgId})::int as idempotency,
      (select count(*) from usage_counters where organization_id = ${orgId})::int as usage,
      (select count(*) from usage_daily where organization_id = ${orgId})::int as usage_daily`);
  return result.rows[0] as Record<string, number>;
}

/** A tenant with a persona, a session, a turn with an attachment, and an idempotency record. */
async function populated(): Promise<{ tenant: Tenant; sessionId: string }> {
  const tenant = await createTenant('Populated');
  const { session } = await conversation(tenant);
  const note = { filename: 'note.txt', mimeType: 'text/plain', data: btoa('remember the milk') };
  data(
    await mutate(
      'chat.sendMessage',
      { chatSessionId: session.id, content: 'Read this', attachments: [note] },
      { tenant, headers: { 'idempotency-key': `admin-test-${crypto.randomUUID()}` } },
    ),
  );
  return { tenant, sessionId: session.id };
}

/** An organization as GET /admin/v1/organizations lists it (the fields these tests read). */
type ListedOrganization = {
  id: string;
  name: string;
  dailyModelCallCap: number | null;
  idleArchiveDays: number | null;
};

describe('operator API: update an organization', () => {
  it('changes the name, the daily model-call cap and the idle-archive days, and null clears an override', async () => {
    const tenant = await createTenant('Before');
    const res = await patch(tenant.organizationId, { name: 'After', dailyModelCallCap: 7, idleArchiveDays: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: tenant.organizationId,
      name: 'After',
      dailyModelCallCap: 7,
      idleArchiveDays: 3,
    });
    const listed = (await admin<ListedOrganization[]>('/organizations')).body.find(
      (o) => o.id === tenant.organizationId,
    );
    expect(listed).toMatchObject({ name: 'After', dailyModelCallCap: 7, idleArchiveDays: 3 });

    const cleared = await patch(tenant.organizationId, { dailyModelCallCap: null });
    expect(cleared.body).toMatchObject({ name: 'After', dailyModelCallCap: null, idleArchiveDays: 3 });
  });

  it('enforces a lowered cap on the next send, storing nothing', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    expect((await patch(tenant.organizationId, { dailyModelCallCap: 0 })).status).toBe(200);
    const res = await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'hello' }, { tenant });
    expect(res.status).toBe(429);
    expect(res.body.error?.message).toMatch(/used its 0 model calls for today/);
    const got = data(await query('chat.getSession', { id: session.id }, { tenant }));
    expect(got.messages.filter((m) => m.role === 'USER')).toHaveLength(0);
  });

  it('refuses bad changes with 400 naming the field, and unknown organizations with 404', async () => {
    const tenant = await createTenant('Unchanged');
    const cases: [unknown, RegExp][] = [
      [{}, /at least one of name, dailyModelCallCap, idleArchiveDays/],
      [{ dailyModelCallCap: -1 }, /dailyModelCallCap/],
      [{ dailyModelCallCap: 1.5 }, /dailyModelCallCap/],
      [{ idleArchiveDays: 0 }, /idleArchiveDays/],
      [{ name: '   ' }, /name/],
      [{ organizationId: 'org_other' }, /organizationId/],
    ];
    for (const [body, message] of cases) {
      const res = await patch(tenant.organizationId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error?.message).toMatch(message);
    }
    const listed = (await admin<ListedOrganization[]>('/organizations')).body.find(
      (o) => o.id === tenant.organizationId,
    );
    expect(listed).toMatchObject({ name: 'Unchanged', dailyModelCallCap: null, idleArchiveDays: null });
    expect((await patch('org_01JZZZZZZZZZZZZZZZZZZZZZZZ', { name: 'x' })).status).toBe(404);
  });
});

describe('operator API: delete an organization', () => {
  it('needs the id repeated as ?confirm, and deletes nothing without it', async () => {
    const { tenant } = await populated();
    const before = await rowsOf(tenant.organizationId);
    for (const confirm of [undefined, '', 'yes', 'org_someone_else']) {
      const res = await remove(tenant.organizationId, confirm);
      expect(res.status).toBe(400);
      expect(res.body.error?.message).toMatch(/repeat its id as \?confirm=/);
    }
    expect(await rowsOf(tenant.organizationId)).toEqual(before);
    expect((await query('chat.listSessions', {}, { tenant })).status).toBe(200);
  });

  it('deletes the organization with its keys, personas, sessions, messages, attachments and records', async () => {
    const { tenant, sessionId } = await populated();
    const other = await populated();
    const before = await rowsOf(tenant.organizationId);
    for (const table of [
      'api_keys',
      'personas',
      'sessions',
      'messages',
      'attachments',
      'idempotency',
      'usage',
      'usage_daily',
    ]) {
      expect(before[table], table).toBeGreaterThan(0);
    }
    const otherBefore = await rowsOf(other.tenant.organizationId);

    const res = await remove(tenant.organizationId, tenant.organizationId);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deleted: { id: tenant.organizationId, name: 'Populated', apiKeys: 1 } });

    expect(Object.values(await rowsOf(tenant.organizationId))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await rowsOf(other.tenant.organizationId)).toEqual(otherBefore);
    // The key was verified (and cached) moments ago; it stops at once.
    const gone = await query('chat.getSession', { id: sessionId }, { tenant });
    expect(gone.status).toBe(401);
    expect((await admin<ListedOrganization[]>('/organizations')).body.map((o) => o.id)).not.toContain(
      tenant.organizationId,
    );
    expect((await remove(tenant.organizationId, tenant.organizationId)).status).toBe(404);
  });
});
