import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config';
import { createDb } from '../src/db/client';
import { chatSessions, organizations } from '../src/db/schema';
import type { Env } from '../src/env';
import worker from '../src/index';
import { ARCHIVE_JOB_NAME, archiveIdleSessionsRun } from '../src/scheduled/archive-idle-sessions';
import { EVERY_15_MINUTES } from '../src/scheduled/index';
import { createTenant, data, mutate, query, type Tenant } from './helpers/api';

// Other test files share this database and may create sessions at any time: every assertion is
// about this file's own organizations, never about global counts.

const db = createDb(env);

type Session = {
  id: string;
  status: 'ACTIVE' | 'ARCHIVED';
  lastActivityAt: string;
  archivedAt: string | null;
  archiveReason: string | null;
  updatedAt: string;
  _count: { messages: number };
};
type Org = { tenant: Tenant; personaId: string };
type Summary = {
  job: string;
  cron: string;
  archived: number;
  batches: number;
  stoppedEarly: boolean;
  durationMs: number;
  error?: string;
};

async function newOrg(idleArchiveDays?: number): Promise<Org> {
  const tenant = await createTenant('Archival test org');
  if (idleArchiveDays !== undefined) {
    await db.update(organizations).set({ idleArchiveDays }).where(eq(organizations.id, tenant.organizationId));
  }
  const persona = data<{ id: string }>(
    await mutate('persona.create', { name: 'Archivist', greeting: 'Hello there.' }, { tenant }),
  );
  return { tenant, personaId: persona.id };
}

/** A session whose last activity was `idleDays` days ago. */
async function newSession(org: Org, idleDays = 0): Promise<Session> {
  const session = data<Session>(
    await mutate('chat.createSession', { personaId: org.personaId }, { tenant: org.tenant }),
  );
  if (idleDays > 0) await backdate(org, session.id, idleDays);
  return session;
}

async function backdate(org: Org, id: string, idleDays: number) {
  await db
    .update(chatSessions)
    .set({ lastActivityAt: sql`now() - make_interval(days => ${idleDays}::int)` })
    .where(and(eq(chatSessions.id, id), eq(chatSessions.organizationId, org.tenant.organizationId)));
}

async function sessions(org: Org, status: 'ACTIVE' | 'ARCHIVED'): Promise<Map<string, Session>> {
  const rows = data<Session[]>(await query('chat.listSessions', { status, limit: 100 }, { tenant: org.tenant }));
  return new Map(rows.map((s) => [s.id, s]));
}

async function idsWith(org: Org, status: 'ACTIVE' | 'ARCHIVED'): Promise<string[]> {
  return [...(await sessions(org, status)).keys()].sort();
}

const sorted = (ids: string[]) => [...ids].sort();

function summaries(spy: { mock: { calls: unknown[][] } }): Summary[] {
  return spy.mock.calls.flatMap(([line]) => {
    if (typeof line !== 'string') return [];
    try {
      const parsed = JSON.parse(line) as Summary;
      return parsed.job === ARCHIVE_JOB_NAME ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

/** One invocation of the Worker's scheduled handler, as the cron trigger fires it. */
async function fireCron(overrides: Partial<Env> = {}, cron = EVERY_15_MINUTES) {
  const controller = createScheduledController({ cron, scheduledTime: new Date() });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
}

/** Fires the cron and returns its one summary line. */
async function runCron(overrides: Partial<Env> = {}): Promise<Summary> {
  const log = vi.spyOn(console, 'log');
  try {
    await fireCron(overrides);
    const lines = summaries(log);
    expect(lines).toHaveLength(1);
    return lines[0] as Summary;
  } finally {
    log.mockRestore();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('idle session archival (cron)', () => {
  it('archives only idle ACTIVE sessions, with each organization’s own idle period', async () => {
    const byDefault = await newOrg(); // 30 days
    const shorter = await newOrg(7);
    const longer = await newOrg(90);

    const idle = [
      await newSession(byDefault, 31),
      await newSession(byDefault, 400),
      await newSession(shorter, 8),
      await newSession(longer, 91),
    ];
    const kept = [
      await newSession(byDefault),
      await newSession(byDefault, 29),
      await newSession(shorter, 6),
      await newSession(longer, 31),
      await newSession(longer, 89),
    ];
    const before = new Map<string, Session>();
    for (const org of [byDefault, shorter, longer])
      for (const [id, s] of await sessions(org, 'ACTIVE')) before.set(id, s);

    const summary = await runCron();
    expect(summary).toMatchObject({ job: ARCHIVE_JOB_NAME, cron: EVERY_15_MINUTES, stoppedEarly: false });
    expect(summary.archived).toBeGreaterThanOrEqual(idle.length);
    expect(summary.batches).toBeGreaterThanOrEqual(1);
    expect(summary.durationMs).toBeGreaterThanOrEqual(0);

    const archived = new Map<string, Session>();
    const active: string[] = [];
    for (const org of [byDefault, shorter, longer]) {
      for (const [id, s] of await sessions(org, 'ARCHIVED')) archived.set(id, s);
      active.push(...(await idsWith(org, 'ACTIVE')));
    }
    expect(sorted([...archived.keys()])).toEqual(sorted(idle.map((s) => s.id)));
    expect(sorted(active)).toEqual(sorted(kept.map((s) => s.id)));

    for (const s of archived.values()) {
      const was = before.get(s.id);
      expect(s.archiveReason).toBe('idle');
      expect(s.archivedAt).not.toBeNull();
      // The status changed, so updatedAt moves; lastActivityAt is activity only and stays put.
      expect(s.lastActivityAt).toBe(was?.lastActivityAt);
      expect(Date.parse(s.updatedAt)).toBeGreaterThan(Date.parse(was?.updatedAt ?? ''));
      expect(Date.parse(s.archivedAt ?? '')).toBe(Date.parse(s.updatedAt));
    }
  });

  it('honours ARCHIVE_IDLE_DAYS as the default idle period', async () => {
    const org = await newOrg();
    const session = await newSession(org, 100);

    await runCron({ ARCHIVE_IDLE_DAYS: '365' });
    expect(await idsWith(org, 'ACTIVE')).toEqual([session.id]);

    await runCron();
    expect(await idsWith(org, 'ARCHIVED')).toEqual([session.id]);
  });

  it('leaves already archived sessions exactly as they were', async () => {
    const org = await newOrg();
    const session = await newSession(org);
    const manual = data<Session>(
      await mutate('chat.updateSession', { id: session.id, status: 'ARCHIVED' }, { tenant: org.tenant }),
    );
    await backdate(org, session.id, 400);
    const [before] = (await sessions(org, 'ARCHIVED')).values();

    await runCron();

    const [after] = (await sessions(org, 'ARCHIVED')).values();
    expect(after).toEqual(before);
    expect(after).toMatchObject({
      archiveReason: 'manual',
      archivedAt: manual.archivedAt,
      updatedAt: manual.updatedAt,
    });
  });

  it('keeps the messages of archived sessions', async () => {
    const org = await newOrg();
    const session = await newSession(org);
    data(
      await mutate(
        'chat.sendMessage',
        { chatSessionId: session.id, role: 'ASSISTANT', content: 'Anything else?' },
        { tenant: org.tenant },
      ),
    );
    await backdate(org, session.id, 31);
    const before = data<Session & { messages: { id: string; content: string }[] }>(
      await query('chat.getSession', { id: session.id }, { tenant: org.tenant }),
    );
    expect(before.messages).toHaveLength(2);

    await runCron();

    const after = data<Session & { messages: { id: string; content: string }[] }>(
      await query('chat.getSession', { id: session.id }, { tenant: org.tenant }),
    );
    expect(after.status).toBe('ARCHIVED');
    expect(after.messages).toEqual(before.messages);
    expect(after._count.messages).toBe(2);
  });

  it('works through a large idle set in bounded batches over several runs', async () => {
    const org = await newOrg();
    const idle: string[] = [];
    for (let i = 0; i < 5; i++) idle.push((await newSession(org, 40 + i)).id);
    const recent = await newSession(org);
    const small = { ARCHIVE_BATCH_SIZE: '2', ARCHIVE_MAX_BATCHES: '1' };

    const first = await runCron(small);
    expect(first).toMatchObject({ archived: 2, batches: 1, stoppedEarly: true });
    expect((await idsWith(org, 'ACTIVE')).length).toBeGreaterThanOrEqual(4);

    const two = await runCron({ ARCHIVE_BATCH_SIZE: '2', ARCHIVE_MAX_BATCHES: '2' });
    expect(two.archived).toBeLessThanOrEqual(4);
    expect(two.batches).toBeLessThanOrEqual(2);

    // Other files may add idle sessions of their own meanwhile, so keep going until ours are done.
    for (let run = 0; run < 25 && (await idsWith(org, 'ACTIVE')).length > 1; run++) {
      const summary = await runCron(small);
      expect(summary.archived).toBeLessThanOrEqual(2);
      expect(summary.batches).toBe(1);
    }
    expect(await idsWith(org, 'ARCHIVED')).toEqual(sorted(idle));
    expect(await idsWith(org, 'ACTIVE')).toEqual([recent.id]);
  });

  it('stops starting batches once the time budget is spent', async () => {
    const org = await newOrg();
    for (let i = 0; i < 3; i++) await newSession(org, 50);
    const settings = { ...DEFAULT_CONFIG.archive, batchSize: 1, maxBatches: 100, timeBudgetMs: 0 };

    const run = await archiveIdleSessionsRun(createDb(env), settings);

    expect(run).toMatchObject({ batches: 1, stoppedEarly: true });
    expect(run.archivedIds).toHaveLength(1);
    const archivedAll = await archiveIdleSessionsRun(createDb(env), { ...settings, timeBudgetMs: 60_000 });
    expect(archivedAll.stoppedEarly).toBe(false);
    expect(await idsWith(org, 'ACTIVE')).toEqual([]);
  });

  it('archives each session exactly once when two runs overlap', async () => {
    const a = await newOrg();
    const b = await newOrg(10);
    const idle: string[] = [];
    for (let i = 0; i < 5; i++) idle.push((await newSession(a, 35 + i)).id);
    for (let i = 0; i < 5; i++) idle.push((await newSession(b, 11 + i)).id);
    const settings = { ...DEFAULT_CONFIG.archive, batchSize: 2, maxBatches: 100 };

    const runs = await Promise.all([
      archiveIdleSessionsRun(createDb(env), settings),
      archiveIdleSessionsRun(createDb(env), settings),
    ]);

    const ours = new Set(idle);
    const archivedByRun = runs.map((run) => run.archivedIds.filter((id) => ours.has(id)));
    const all = archivedByRun.flat();
    expect(all).toHaveLength(idle.length);
    expect(sorted(all)).toEqual(sorted(idle));
    expect([...(await idsWith(a, 'ARCHIVED')), ...(await idsWith(b, 'ARCHIVED'))].sort()).toEqual(sorted(idle));
    expect(runs.every((run) => !run.stoppedEarly)).toBe(true);
  });

  it('does not re-archive a reactivated session until it is idle again', async () => {
    const org = await newOrg();
    const session = await newSession(org, 60);
    await runCron();
    expect(await idsWith(org, 'ARCHIVED')).toEqual([session.id]);

    const reactivated = data<Session>(
      await mutate('chat.updateSession', { id: session.id, status: 'ACTIVE' }, { tenant: org.tenant }),
    );
    expect(reactivated).toMatchObject({ status: 'ACTIVE', archivedAt: null, archiveReason: null });
    expect(Date.now() - Date.parse(reactivated.lastActivityAt)).toBeLessThan(60_000);

    await runCron();
    expect(await idsWith(org, 'ACTIVE')).toEqual([session.id]);

    await backdate(org, session.id, 31);
    await runCron();
    const [again] = (await sessions(org, 'ARCHIVED')).values();
    expect(again).toMatchObject({ id: session.id, archiveReason: 'idle' });
  });

  it('rejects a cron expression it has no job for, and archives nothing', async () => {
    const org = await newOrg();
    const session = await newSession(org, 60);

    await expect(fireCron({}, '0 3 * * *')).rejects.toThrow('No scheduled job for cron "0 3 * * *"');

    expect(await idsWith(org, 'ACTIVE')).toEqual([session.id]);
  });

  it('logs one redacted summary on console.error and fails the run when the database is unusable', async () => {
    const log = vi.spyOn(console, 'log');
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const broken = 'not a url:secret-password';

    await expect(fireCron({ DATABASE_URL: broken })).rejects.toThrow();

    expect(summaries(log)).toEqual([]);
    const lines = summaries(error);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ job: ARCHIVE_JOB_NAME, archived: 0, batches: 0, stoppedEarly: false });
    // Logged through describeError (src/log.ts): the error's name, never a driver message.
    expect(lines[0]?.error).toMatch(/NeonDbError/);
    expect(JSON.stringify(lines[0])).not.toContain('secret-password');
  });
});
