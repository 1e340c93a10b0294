import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { messages } from '../src/db/schema';
import worker from '../src/index';
import { EVERY_15_MINUTES } from '../src/scheduled/index';
import { createTenant, data, mutate, query } from './helpers/api';
import { conversation } from './helpers/factories';

const db = createDb(env);

/** A reply whose generator died (no progress saved for `minutes`), as an evicted isolate leaves it. */
async function orphan(organizationId: string, id: string, minutes: number) {
  await db
    .update(messages)
    .set({ status: 'STREAMING', content: 'Half a repl', updatedAt: sql`now() - make_interval(mins => ${minutes})` })
    .where(and(eq(messages.id, id), eq(messages.organizationId, organizationId)));
}

async function repliesCounted(organizationId: string): Promise<number> {
  const result = await db.execute(
    sql`select coalesce(sum(replies), 0)::int as n from usage_daily where organization_id = ${organizationId}`,
  );
  return result.rows[0]?.n as number;
}

describe('closing replies whose generator died', () => {
  it('marks long-silent STREAMING replies INCOMPLETE with their text, and leaves live ones alone', async () => {
    const tenant = await createTenant();
    const { session } = await conversation(tenant);
    const dead = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'one' }, { tenant }));
    const live = data(await mutate('chat.sendMessage', { chatSessionId: session.id, content: 'two' }, { tenant }));
    await orphan(tenant.organizationId, dead.id, 10);
    await orphan(tenant.organizationId, live.id, 0);
    const repliesBefore = await repliesCounted(tenant.organizationId);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: EVERY_15_MINUTES, scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);

    const got = data(await query('chat.getSession', { id: session.id }, { tenant }));
    const byId = new Map(got.messages.map((m) => [m.id, m]));
    expect(byId.get(dead.id)).toMatchObject({
      status: 'INCOMPLETE',
      content: 'Half a repl',
      metadata: { error: { code: 'ABANDONED' } },
    });
    expect(byId.get(live.id)).toMatchObject({ status: 'STREAMING' });
    // The sweep's statement counts the reply it closed in the usage, and only that one. (Both were
    // counted once already when first finished: `orphan` reopens finished replies.)
    expect(await repliesCounted(tenant.organizationId)).toBe(repliesBefore + 1);
  });
});
