/**
 * The usage API (usage.get and the operator's /organizations/:id/usage): after a scripted day of
 * traffic, its numbers equal counts taken directly from the sessions, messages and attachments.
 */
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { sumUsage, type UsageCounts } from '../src/db/queries/usage';
import { admin, createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { createPersona, createSession, marker } from './helpers/factories';
import { configureFakeModel, fakeModel } from './helpers/fake-model';

const db = createDb(env);

const file = (name: string, text: string) => ({ filename: name, mimeType: 'text/plain', data: btoa(text) });

function utcDay(offsetDays = 0): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

type Counts = UsageCounts;

/** The same numbers, counted from the rows themselves, per persona. */
async function countedFromRows(orgId: string): Promise<Record<string, Counts>> {
  const result = await db.execute(sql`
    select s.persona_id,
      count(distinct s.id)::int as sessions,
      (select count(*) from messages m join chat_sessions x on x.id = m.chat_session_id
        where x.persona_id = s.persona_id and m.organization_id = ${orgId}
          and m.reply_to_id is null and m.metadata->>'greeting' is null)::int as messages,
      (select count(*) from messages m join chat_sessions x on x.id = m.chat_session_id
        where x.persona_id = s.persona_id and m.organization_id = ${orgId}
          and m.reply_to_id is not null and m.status <> 'STREAMING')::int as replies,
      (select count(*) from messages m join chat_sessions x on x.id = m.chat_session_id
        where x.persona_id = s.persona_id and m.organization_id = ${orgId} and m.reply_to_id is not null)::int as calls,
      (select coalesce(sum((m.metadata->'usage'->>'inputTokens')::bigint), 0) from messages m
        join chat_sessions x on x.id = m.chat_session_id
        where x.persona_id = s.persona_id and m.organization_id = ${orgId} and m.reply_to_id is not null)::int as input,
      (select coalesce(sum((m.metadata->'usage'->>'outputTokens')::bigint), 0) from messages m
        join chat_sessions x on x.id = m.chat_session_id
        where x.persona_id = s.persona_id and m.organization_id = ${orgId} and m.reply_to_id is not null)::int as output,
      (select coalesce(sum(a.byte_size), 0) from attachments a join messages m on m.id = a.message_id
        join chat_sessions x on x.id = m.chat_session_id
        where x.persona_id = s.persona_id and a.organization_id = ${orgId})::int as bytes
    from chat_sessions s where s.organization_id = ${orgId}
    group by s.persona_id`);
  return Object.fromEntries(
    result.rows.map((r) => [
      r.persona_id as string,
      {
        sessionsStarted: r.sessions as number,
        messages: r.messages as number,
        replies: r.replies as number,
        modelCalls: r.calls as number,
        inputTokens: r.input as number,
        outputTokens: r.output as number,
        attachmentBytes: r.bytes as number,
      },
    ]),
  );
}

/** usage.get over yesterday..today (a run across midnight splits the day), summed per persona. */
async function reported(tenant: Tenant, personaId?: string) {
  const report = data(
    await query('usage.get', { from: utcDay(-1), to: utcDay(), ...(personaId ? { personaId } : {}) }, { tenant }),
  );
  // Summed per persona over the days with the query's own sumUsage (its addition is not what is tested).
  const perPersona: Record<string, Counts> = {};
  for (const id of new Set(report.days.map((row) => row.personaId))) {
    perPersona[id] = sumUsage(report.days.filter((row) => row.personaId === id));
  }
  return { report, perPersona };
}

const send = (tenant: Tenant, input: Record<string, unknown>, headers: Record<string, string> = {}) =>
  mutate('chat.sendMessage', input, { tenant, headers });

describe('usage', () => {
  it('equals counts taken from the rows after a day of traffic, per persona, and other organizations see none of it', async () => {
    const tenant = await createTenant('Usage A');
    const other = await createTenant('Usage B');
    const greeter = await createPersona(tenant, { name: 'Greeter', greeting: 'Hello there!' });
    const plainModel = await fakeModel({ status: 500 });
    const plain = await createPersona(tenant, { name: 'Plain', model: plainModel });
    const s1 = await createSession(tenant, greeter.id);
    const s2 = await createSession(tenant, greeter.id);
    const s3 = await createSession(tenant, plain.id);

    // Replies with a model call, one with an attachment.
    data(await send(tenant, { chatSessionId: s1.id, content: marker('hello') }));
    data(
      await send(tenant, {
        chatSessionId: s1.id,
        content: 'Read this',
        attachments: [file('a.txt', 'abc'.repeat(50))],
      }),
    );
    // Stored without a model call.
    data(await send(tenant, { chatSessionId: s1.id, role: 'SYSTEM', content: 'Note for the record' }));
    data(await send(tenant, { chatSessionId: s2.id, role: 'ASSISTANT', content: 'Anything else?' }));
    // A failed model call: the message and an INCOMPLETE reply are kept, the call counted.
    const failed = await send(tenant, { chatSessionId: s3.id, content: marker('e500') });
    expect(failed.status).toBe(502);
    await configureFakeModel(plainModel, {});
    data(
      await send(tenant, {
        chatSessionId: s3.id,
        content: 'Two files',
        attachments: [file('b.txt', 'x'.repeat(1000)), file('c.txt', 'y'.repeat(77))],
      }),
    );
    // A replayed request (same Idempotency-Key) is counted once.
    const headers = { 'idempotency-key': `usage-${crypto.randomUUID()}` };
    data(await send(tenant, { chatSessionId: s3.id, content: 'once' }, headers));
    data(await send(tenant, { chatSessionId: s3.id, content: 'once' }, headers));
    // Refused sends count nothing: an unknown session, another organization's session.
    const theirs = await createSession(other, (await createPersona(other)).id);
    expect((await send(tenant, { chatSessionId: 'chs_unknown', content: 'x' })).status).toBe(404);
    expect((await send(tenant, { chatSessionId: theirs.id, content: 'x' })).status).toBe(404);
    data(await send(other, { chatSessionId: theirs.id, content: 'theirs', attachments: [file('d.txt', 'zz')] }));

    const expected = await countedFromRows(tenant.organizationId);
    const { report, perPersona } = await reported(tenant);
    expect(perPersona).toEqual(expected);
    // The script's own arithmetic, so a wrong count in both places still fails.
    expect(expected[greeter.id]).toMatchObject({ sessionsStarted: 2, messages: 4, replies: 2, modelCalls: 2 });
    expect(expected[plain.id]).toMatchObject({ sessionsStarted: 1, messages: 3, replies: 3, modelCalls: 3 });
    expect(expected[greeter.id]?.attachmentBytes).toBe(150);
    expect(expected[plain.id]?.attachmentBytes).toBe(1077);
    expect(expected[greeter.id]?.inputTokens).toBeGreaterThan(0);
    expect(expected[greeter.id]?.outputTokens).toBeGreaterThan(0);
    expect(report.totals).toEqual({
      sessionsStarted: 3,
      messages: 7,
      replies: 5,
      modelCalls: 5,
      inputTokens: (expected[greeter.id]?.inputTokens ?? 0) + (expected[plain.id]?.inputTokens ?? 0),
      outputTokens: (expected[greeter.id]?.outputTokens ?? 0) + (expected[plain.id]?.outputTokens ?? 0),
      attachmentBytes: 1227,
    });
    // The daily cap's per-organization counter agrees with the per-persona model calls.
    const cap = await db.execute(sql`
      select coalesce(sum(model_calls), 0)::int as calls from usage_counters
      where organization_id = ${tenant.organizationId} and day >= ${utcDay(-1)}::date`);
    expect(cap.rows[0]?.calls).toBe(5);

    // One persona only.
    const filtered = await reported(tenant, plain.id);
    expect(Object.keys(filtered.perPersona)).toEqual([plain.id]);
    expect(filtered.report.totals).toEqual(expected[plain.id]);

    // The other organization sees its own usage only, even naming our persona.
    const theirReport = await reported(other);
    expect(theirReport.report.totals).toMatchObject({
      sessionsStarted: 1,
      messages: 1,
      modelCalls: 1,
      attachmentBytes: 2,
    });
    expect(Object.keys(theirReport.perPersona)).not.toContain(greeter.id);
    expect((await reported(other, greeter.id)).report.days).toEqual([]);

    // The operator API gives the same report.
    const viaAdmin = await admin(`/organizations/${tenant.organizationId}/usage?from=${utcDay(-1)}&to=${utcDay()}`);
    expect(viaAdmin.status).toBe(200);
    expect(viaAdmin.body).toEqual(report);
  });

  it('refuses a backwards range, a range over 366 days and malformed days', async () => {
    const tenant = await createTenant();
    const ask = (input: unknown) => query('usage.get', input, { tenant });
    const backwards = await ask({ from: '2026-03-02', to: '2026-03-01' });
    expect(backwards.status).toBe(400);
    expect(JSON.stringify(backwards.body)).toMatch(/must not be after/);
    expect((await ask({ from: '2025-01-01', to: '2026-01-02' })).status).toBe(400);
    expect((await ask({ from: '2025-01-01', to: '2026-01-01' })).status).toBe(200);
    expect((await ask({ from: '2026-02-30', to: '2026-03-01' })).status).toBe(400);
    expect((await ask({ from: 'yesterday', to: '2026-03-01' })).status).toBe(400);
    expect((await admin(`/organizations/${tenant.organizationId}/usage?from=2026-01-01`)).status).toBe(400);
    expect((await admin(`/organizations/org_unknown/usage?from=2026-01-01&to=2026-01-01`)).status).toBe(404);
  });
});
