/**
 * Webhooks (issue 19): endpoints through the API, delivery on the queue with Standard Webhooks
 * signatures, retries with backoff, disabling after a day of failures, replay, and no event lost
 * when a consumer dies mid-delivery.
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { insertOutboxEvent } from '../src/db/queries/webhook-outbox';
import { webhookEventTypes } from '../src/db/schema';
import type { Env } from '../src/env';
import { newId } from '../src/ids';
import { EVERY_MINUTE } from '../src/scheduled/index';
import { deliverOnce, WEBHOOK_QUEUE_NAME } from '../src/webhooks/consume';
import { drainOutbox, sweepLostDeliveries } from '../src/webhooks/dispatch';
import type { WebhookJob } from '../src/webhooks/job';
import { RETRY_DELAYS_SECONDS } from '../src/webhooks/schedule';
import { admin, createTenant, data, mutate, query, type Tenant } from './helpers/api';
import { waitFor } from './helpers/chat';
import { pdfFixture } from './helpers/pdf-fixtures';
import { type ReceivedDelivery, received, receiverUrl as receiverBase } from './helpers/webhook-receiver';

const db = createDb(env);
const receiverUrl = receiverBase();

/** The receiver's deliveries at `token` once there are `count` (or after about a minute). */
const arrived = (token: string, count: number) =>
  waitFor(
    () => received(token),
    (got) => got.length >= count,
    1_200,
  );

/** A queue that only collects what is sent, so a test drives the consumer itself. */
function collectingQueue() {
  const sent: WebhookJob[] = [];
  const queue = {
    send: async (body: WebhookJob) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<WebhookJob>>) => {
      for (const m of messages) sent.push(m.body);
    },
  } as unknown as Queue<WebhookJob>;
  return { queue, sent };
}

async function endpoint(tenant: Tenant, fields: { fail?: number; events?: string[] } = {}) {
  const token = crypto.randomUUID();
  const url = `${receiverUrl}/hook/${token}${fields.fail ? `?fail=${fields.fail}` : ''}`;
  const created = data(
    await mutate('webhooks.create', { url, events: fields.events ?? ['session.created'] }, { tenant }),
  );
  return { ...created, token };
}

/** An event in the outbox, as a change's statement writes it. */
async function outboxEvent(tenant: Tenant, type: 'session.created' | 'source.ready' = 'session.created') {
  const id = newId('webhookEvent');
  const written = await insertOutboxEvent(db, {
    id,
    organizationId: tenant.organizationId,
    type,
    payload: sql`jsonb_build_object('marker', ${id}::text)`,
  });
  return { id, written };
}

/** Runs the Worker's queue consumer on `jobs`, as the queue would, and returns what it told the queue. */
async function consume(jobs: WebhookJob[], attempts = 1) {
  const worker = (await import('../src/index')).default;
  const batch = createMessageBatch<WebhookJob>(
    WEBHOOK_QUEUE_NAME,
    jobs.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env as Env, ctx);
  return getQueueResult(batch, ctx);
}

describe('webhook endpoints', () => {
  it('creates with a whsec_ secret shown once, lists without it, updates, rotates and deletes', async () => {
    const tenant = await createTenant();
    const created = await endpoint(tenant, { events: ['session.created', 'reply.completed', 'session.created'] });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    expect(created.events).toEqual(['session.created', 'reply.completed']);

    const listed = data(await query('webhooks.list', {}, { tenant }));
    expect(listed.map((e) => e.id)).toEqual([created.id]);
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const updated = data(
      await mutate('webhooks.update', { id: created.id, events: ['session.archived'], enabled: false }, { tenant }),
    );
    expect(updated).toMatchObject({ events: ['session.archived'], enabled: false });
    expect(updated.disabledReason).toContain('organization');

    const rotated = data(await mutate('webhooks.rotateSecret', { id: created.id }, { tenant }));
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);

    expect(data(await mutate('webhooks.delete', { id: created.id }, { tenant }))).toEqual({
      id: created.id,
      deleted: true,
    });
    expect((await query('webhooks.get', { id: created.id }, { tenant })).status).toBe(404);
  });

  it('refuses plain http to public hosts, credentials in URLs, unknown events and an empty list', async () => {
    const tenant = await createTenant();
    const refused = [
      { url: 'http://example.com/hook', events: ['session.created'] },
      { url: 'https://user:pass@example.com/hook', events: ['session.created'] },
      { url: 'https://example.com/hook', events: ['session.deleted'] },
      { url: 'https://example.com/hook', events: [] },
      { url: 'not a url', events: ['session.created'] },
    ];
    for (const input of refused) {
      const res = await mutate('webhooks.create', input, { tenant });
      expect(res.status, JSON.stringify(input)).toBe(400);
    }
    expect(data(await query('webhooks.list', {}, { tenant }))).toEqual([]);
  });

  it("never shows or changes another organization's endpoints or deliveries", async () => {
    const [owner, other] = [await createTenant(), await createTenant()];
    const created = await endpoint(owner);
    for (const [procedure, input] of [
      ['webhooks.get', { id: created.id }],
      ['webhooks.listDeliveries', { endpointId: created.id }],
    ] as const) {
      const res = await query(procedure, input, { tenant: other });
      if (procedure === 'webhooks.get') expect(res.status).toBe(404);
      else expect(data(res)).toEqual([]);
    }
    for (const [procedure, input] of [
      ['webhooks.update', { id: created.id, enabled: false }],
      ['webhooks.rotateSecret', { id: created.id }],
      ['webhooks.delete', { id: created.id }],
    ] as const) {
      expect((await mutate(procedure, input, { tenant: other })).status, procedure).toBe(404);
    }
    expect(data(await query('webhooks.list', {}, { tenant: other }))).toEqual([]);
    expect(data(await query('webhooks.get', { id: created.id }, { tenant: owner })).enabled).toBe(true);
  });
});

describe('webhook endpoints through the operator API (the CLI)', () => {
  it('creates, lists and rotates for the organization in the path, and 404s for an unknown one', async () => {
    const tenant = await createTenant();
    const path = `/organizations/${tenant.organizationId}/webhooks`;
    const created = await admin(path, {
      url: `${receiverUrl}/hook/${crypto.randomUUID()}`,
      events: ['session.created'],
    });
    expect(created.status).toBe(201);
    const body = created.body as { id: string; secret: string };
    expect(body.secret).toMatch(/^whsec_/);
    const listed = await admin(path);
    expect((listed.body as unknown as { id: string }[]).map((e) => e.id)).toEqual([body.id]);
    expect(JSON.stringify(listed.body)).not.toContain(body.secret);
    const rotated = await admin(`${path}/${body.id}/rotate-secret`, {});
    expect((rotated.body as { secret: string }).secret).not.toBe(body.secret);
    expect((await admin('/organizations/org_nope/webhooks')).status).toBe(404);
    // What the API key sees is the same endpoint.
    expect(data(await query('webhooks.get', { id: body.id }, { tenant })).id).toBe(body.id);
  });
});

describe('webhook delivery', () => {
  it('writes no outbox event for an organization without an endpoint that wants the type', async () => {
    const tenant = await createTenant();
    expect((await outboxEvent(tenant)).written).toBe(false);
    await endpoint(tenant, { events: ['reply.completed'] });
    expect((await outboxEvent(tenant)).written).toBe(false);
    await endpoint(tenant, { events: ['session.created'] });
    expect((await outboxEvent(tenant)).written).toBe(true);
  });

  it('signs each delivery so the standardwebhooks library verifies it, and records it', async () => {
    const tenant = await createTenant();
    const hook = await endpoint(tenant);
    const event = await outboxEvent(tenant);
    const { queue, sent } = collectingQueue();
    await drainOutbox(db, queue, { organizationId: tenant.organizationId });
    const mine = sent.filter((j) => j.organizationId === tenant.organizationId);
    expect(mine).toHaveLength(1);

    const result = await consume(mine);
    expect(result.explicitAcks).toEqual(['m0']);
    const [got] = await received(hook.token);
    expect(got).toMatchObject({ id: event.id, answered: 204, contentType: 'application/json' });
    const verified = new Webhook(hook.secret).verify(got?.body ?? '', {
      'webhook-id': got?.id ?? '',
      'webhook-timestamp': got?.timestamp ?? '',
      'webhook-signature': got?.signature ?? '',
    });
    expect(verified).toMatchObject({ type: 'session.created', data: { marker: event.id } });
    // A wrong secret does not verify.
    const other = data(await mutate('webhooks.rotateSecret', { id: hook.id }, { tenant }));
    expect(() =>
      new Webhook(other.secret).verify(got?.body ?? '', {
        'webhook-id': got?.id ?? '',
        'webhook-timestamp': got?.timestamp ?? '',
        'webhook-signature': got?.signature ?? '',
      }),
    ).toThrow();

    const deliveries = data(await query('webhooks.listDeliveries', { endpointId: hook.id }, { tenant }));
    expect(deliveries).toEqual([
      expect.objectContaining({ eventId: event.id, status: 'SUCCEEDED', attempts: 1, lastStatusCode: 204 }),
    ]);
  });

  it('retries a receiver answering 500 twice with growing delays, then succeeds with the same webhook-id', async () => {
    const tenant = await createTenant();
    const hook = await endpoint(tenant, { fail: 2 });
    const event = await outboxEvent(tenant);
    const { queue, sent } = collectingQueue();
    await drainOutbox(db, queue, { organizationId: tenant.organizationId });
    const mine = sent.filter((j) => j.organizationId === tenant.organizationId);

    // The queue is told to retry, and the row says when: each delay longer than the one before.
    const pending = async () => {
      const [row] = data(await query('webhooks.listDeliveries', { endpointId: hook.id }, { tenant }));
      if (!row) throw new Error('expected a delivery');
      return { ...row, delay: (Date.parse(row.nextAttemptAt ?? '') - Date.parse(row.lastAttemptAt ?? '')) / 1000 };
    };
    expect((await consume(mine, 1)).retryMessages).toEqual([expect.objectContaining({ msgId: 'm0' })]);
    expect(await pending()).toMatchObject({ status: 'PENDING', attempts: 1, delay: RETRY_DELAYS_SECONDS[0] });
    expect((await consume(mine, 2)).retryMessages).toEqual([expect.objectContaining({ msgId: 'm0' })]);
    expect(await pending()).toMatchObject({ status: 'PENDING', attempts: 2, delay: RETRY_DELAYS_SECONDS[1] });
    const third = await consume(mine, 3);
    expect(third.explicitAcks).toEqual(['m0']);

    const got = await received(hook.token);
    expect(got.map((d) => [d.id, d.answered])).toEqual([
      [event.id, 500],
      [event.id, 500],
      [event.id, 204],
    ]);
    const [delivery] = data(await query('webhooks.listDeliveries', { endpointId: hook.id }, { tenant }));
    expect(delivery).toMatchObject({ status: 'SUCCEEDED', attempts: 3, lastStatusCode: 204, lastError: null });
  });

  it('disables an endpoint that has failed for a day, with the reason, and stops attempting it', async () => {
    const tenant = await createTenant();
    const hook = await endpoint(tenant, { fail: 1000 });
    await db.execute(sql`update webhook_endpoints set failing_since = now() - interval '25 hours'
      where organization_id = ${tenant.organizationId} and id = ${hook.id}`);
    await outboxEvent(tenant);
    await outboxEvent(tenant);
    const { queue, sent } = collectingQueue();
    await drainOutbox(db, queue, { organizationId: tenant.organizationId });
    const [a, b] = sent.filter((j) => j.organizationId === tenant.organizationId);
    if (!a || !b) throw new Error('expected two deliveries');

    await consume([a]);
    const disabled = data(await query('webhooks.get', { id: hook.id }, { tenant }));
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledReason).toMatch(/^Failing since \d{4}-\d\d-\d\dT.*last error: HTTP 500$/);

    expect((await consume([b])).explicitAcks).toEqual(['m0']);
    expect(await received(hook.token)).toHaveLength(1);
    const deliveries = data(
      await query('webhooks.listDeliveries', { endpointId: hook.id, status: 'FAILED' }, { tenant }),
    );
    expect(deliveries).toEqual([expect.objectContaining({ lastError: 'The endpoint is disabled.' })]);
  });

  it('loses nothing when the consumer dies mid-delivery: the sweeper sends it again with the same webhook-id', async () => {
    const tenant = await createTenant();
    const hook = await endpoint(tenant);
    const event = await outboxEvent(tenant);
    const { queue, sent } = collectingQueue();
    await drainOutbox(db, queue, { organizationId: tenant.organizationId });
    const [job] = sent.filter((j) => j.organizationId === tenant.organizationId);
    if (!job) throw new Error('expected a delivery');

    // The POST goes out and the receiver takes it, then the consumer's isolate is gone before it
    // records anything or acks the message (which the queue, or its loss, never redelivers).
    const { attemptDelivery } = await import('../src/webhooks/attempt');
    await expect(
      deliverOnce(db, job, async (delivery) => {
        await attemptDelivery(delivery);
        throw new Error('isolate killed');
      }),
    ).rejects.toThrow('isolate killed');
    expect(await received(hook.token)).toHaveLength(1);

    // Not yet stale: the sweeper leaves it to the queue.
    const early = collectingQueue();
    await sweepLostDeliveries(db, early.queue);
    expect(early.sent.some((j) => j.deliveryId === job.deliveryId)).toBe(false);

    await db.execute(sql`update webhook_deliveries set due_at = now() - interval '10 minutes'
      where organization_id = ${tenant.organizationId} and id = ${job.deliveryId}`);
    const sweep = collectingQueue();
    await sweepLostDeliveries(db, sweep.queue);
    expect(sweep.sent).toContainEqual(job);
    await consume([job]);

    const got = await received(hook.token);
    expect(got.map((d) => d.id)).toEqual([event.id, event.id]);
  });

  it('the every-minute cron drains what no request handed over, onto the real queue', async () => {
    const tenant = await createTenant();
    const hook = await endpoint(tenant);
    const event = await outboxEvent(tenant);
    const worker = (await import('../src/index')).default;
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: EVERY_MINUTE, scheduledTime: Date.now() }),
      env as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const got = await arrived(hook.token, 1);
    expect(got.map((d) => d.id)).toEqual([event.id]);
  });

  it('replays a delivery on the real queue with the same webhook-id', async () => {
    const tenant = await createTenant();
    const hook = await endpoint(tenant);
    const event = await outboxEvent(tenant);
    const { queue, sent } = collectingQueue();
    await drainOutbox(db, queue, { organizationId: tenant.organizationId });
    await consume(sent.filter((j) => j.organizationId === tenant.organizationId));
    const [delivery] = data(await query('webhooks.listDeliveries', { endpointId: hook.id }, { tenant }));
    if (!delivery) throw new Error('expected a delivery');

    const other = await createTenant();
    expect((await mutate('webhooks.replayDelivery', { id: delivery.id }, { tenant: other })).status).toBe(404);
    expect(data(await mutate('webhooks.replayDelivery', { id: delivery.id }, { tenant }))).toEqual({
      id: delivery.id,
      status: 'PENDING',
    });
    // The Worker's own consumer takes it from the local queue.
    const got = await arrived(hook.token, 2);
    expect(got.map((d) => d.id)).toEqual([event.id, event.id]);
  });
});

describe('webhook events', () => {
  type Event = { type: string; data: Record<string, unknown> };

  /** Waits until the receiver has `count` deliveries, then a moment more to catch any extra. */
  async function deliveries(token: string, count: number): Promise<ReceivedDelivery[]> {
    await arrived(token, count);
    await new Promise((r) => setTimeout(r, 1_500));
    return received(token);
  }

  it('delivers every event type once per change, signed, and nothing for refused changes', {
    timeout: 120_000,
  }, async () => {
    const tenant = await createTenant();
    const hook = await endpoint(tenant, {
      events: [...webhookEventTypes],
    });
    const persona = data(await mutate('persona.create', { name: 'Hooked', instructions: 'Hi.' }, { tenant }));
    const session = data(await mutate('chat.createSession', { personaId: persona.id }, { tenant }));
    data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'hello hooks' }, { tenant }));
    data(await mutate('chat.updateSession', { id: session.id, status: 'ARCHIVED' }, { tenant }));
    const text = btoa('Knowledge for the hooked persona.');
    const ready = data(
      await mutate(
        'source.add',
        { personaId: persona.id, filename: 'k.txt', mimeType: 'text/plain', data: text },
        { tenant },
      ),
    );
    const failed = data(
      await mutate(
        'source.add',
        {
          personaId: persona.id,
          filename: 'scan.pdf',
          mimeType: 'application/pdf',
          data: pdfFixture('scanned-image-only_epson.pdf'),
        },
        { tenant },
      ),
    );

    // Refused or rolled back: an unknown persona, a message to an archived session, archiving again.
    expect((await mutate('chat.createSession', { personaId: 'persona_nope' }, { tenant })).status).toBe(404);
    expect((await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'late' }, { tenant })).status).toBe(
      409,
    );
    data(await mutate('chat.updateSession', { id: session.id, status: 'ARCHIVED' }, { tenant }));

    // Sources are ingested on their queue; their events are written when ingestion finishes and
    // drained by the every-minute sweep (driven here directly).
    const queue = env.WEBHOOK_QUEUE as Queue<WebhookJob>;
    await waitFor(
      async () => {
        await drainOutbox(db, queue, { organizationId: tenant.organizationId });
        return received(hook.token);
      },
      (got) => got.length >= 6,
      1_200,
    );
    const got = await deliveries(hook.token, 6);

    const wh = new Webhook(hook.secret);
    const events = got.map((d) =>
      wh.verify(d.body, {
        'webhook-id': d.id ?? '',
        'webhook-timestamp': d.timestamp ?? '',
        'webhook-signature': d.signature ?? '',
      }),
    ) as Event[];
    expect(events.map((e) => e.type).sort()).toEqual([...webhookEventTypes].sort());
    expect(new Set(got.map((d) => d.id)).size).toBe(6);
    // The outbox holds exactly these: the refused changes wrote no event, not even an undelivered one.
    const written = await db.execute<{ type: string }>(
      sql`select type from webhook_events where organization_id = ${tenant.organizationId} order by type`,
    );
    expect(written.rows.map((r) => r.type)).toEqual([...webhookEventTypes].sort());
    const byType = Object.fromEntries(events.map((e) => [e.type, e.data]));
    expect(byType['session.created']).toMatchObject({ session: { id: session.id, personaId: persona.id } });
    expect(byType['message.created']).toMatchObject({
      sessionId: session.id,
      message: { role: 'USER', content: 'hello hooks' },
    });
    expect(byType['reply.completed']).toMatchObject({ sessionId: session.id, reply: { status: 'COMPLETE' } });
    expect(byType['reply.completed']?.usage).toEqual({
      inputTokens: expect.any(Number),
      outputTokens: expect.any(Number),
    });
    expect(byType['session.archived']).toMatchObject({ sessionId: session.id, reason: 'manual' });
    expect(byType['source.ready']).toMatchObject({ source: { id: ready.id, status: 'READY' } });
    expect(byType['source.failed']).toMatchObject({ source: { id: failed.id, status: 'FAILED' } });
  });
});
