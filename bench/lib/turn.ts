/**
 * `npm run bench -- --only=turn [--runtime=wrangler|workerd] [--profile]`: the cost of one chat turn
 * on one runtime, each figure beside the floor Worker on the same runtime in the same run.
 *
 *  - time to first byte of chat.streamMessage vs the floor proxying the same model stream
 *    (bench/lib/ttfb.ts; BENCH_TTFB_TURNS, default 100 here);
 *  - Worker CPU per turn (workerd processes of the runtime's group, from /proc; Durable Object
 *    included, it runs in the same workerd) for 10-word and 200-word replies, split into a fixed
 *    part and a per-token part by the difference; the floor's CPU per proxied stream beside it;
 *  - with --profile (plain workerd only: its bundle is the file the profile's lines refer to):
 *    the isolate's V8 CPU profile over BENCH_TURN_RUNS 10-word turns, self time by bundled module.
 *
 * `--runtime=workerd` serves `wrangler deploy --dry-run`'s bundle with Miniflare's API (no dev
 * proxy, no wrangler process in front); `--runtime=wrangler` (default) uses `wrangler dev`.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startSqlServer } from '../../dev/sql-server.ts';
import { startFakeOpenAI } from '../../test/node/fake-openai.ts';
import { ADMIN_TOKEN, authHeaders, createTenant } from './api.ts';
import { onCleanup } from './cleanup.ts';
import { cpuBetween, cpuSnapshot } from './cpu.ts';
import { machine } from './machine.ts';
import { createThrowawayDatabase, postgresVersion } from './postgres.ts';
import { freePort } from './proc.ts';
import { type ProfileSummary, profileWorker } from './profile.ts';
import { type Runtime, startRuntime } from './runtime.ts';
import { addApiKeys, seedSessions } from './seed.ts';
import { percentile, round } from './stats.ts';
import { fixed, table } from './table.ts';
import { measureTtfb } from './ttfb.ts';
import { floorProject, root } from './wrangler.ts';

const TURNS = Number(process.env.BENCH_TTFB_TURNS ?? 100);
const RUNS = Number(process.env.BENCH_TURN_RUNS ?? 40);
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

async function readToEnd(url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' } });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${new URL(url).pathname}: ${text.slice(0, 300)}`);
}

/** workerd CPU ms per call of `once` over `runs` calls (after 3 unmeasured ones). */
async function cpuPer(pgid: number, runs: number, once: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < 3; i++) await once(i);
  const before = cpuSnapshot();
  for (let i = 0; i < runs; i++) await once(i);
  const after = cpuSnapshot();
  return (cpuBetween(before, after, pgid).workerd ?? 0) / runs;
}

export async function measureTurn(options: { runtime: Runtime; scratch: string; secret: string; profile: boolean }) {
  const loadBefore = loadavg().map((x) => round(x, 2));
  const log = (m: string) => console.error(`[bench turn, ${options.runtime}] ${m}`);
  const model = await startFakeOpenAI();
  onCleanup('close model server', () => model.close());
  const pgVersion = await postgresVersion();
  const throwaway = pgVersion ? await createThrowawayDatabase() : undefined;
  const sql = await startSqlServer(
    throwaway
      ? { databaseUrl: throwaway.url, secret: options.secret }
      : { dataDir: join(options.scratch, 'pglite'), secret: options.secret },
  );
  let sqlClosed = false;
  const closeSql = async () => {
    if (sqlClosed) return;
    sqlClosed = true;
    await sql.close();
  };
  onCleanup('close SQL endpoint', closeSql);
  const database = throwaway ? 'PostgreSQL' : 'PGlite';
  log(`starting the floor and the API (${database})`);
  const floor = await startRuntime(options.runtime, {
    name: 'floor',
    project: floorProject(join(options.scratch, 'floor')),
    scratch: options.scratch,
    vars: { MODEL_URL: model.url },
  });
  const inspectorPort = await freePort();
  const app = await startRuntime(options.runtime, {
    name: 'api',
    project: root,
    scratch: options.scratch,
    inspectorPort,
    vars: {
      DATABASE_URL: 'postgresql://app:local@db.localhost:5432/app',
      LOCAL_SQL_ENDPOINT: sql.url,
      LOCAL_DEV_SECRET: sql.secret,
      ADMIN_TOKEN,
      OPENAI_API_KEY: 'sk-bench-local',
      OPENAI_BASE_URL: model.url,
      DAILY_MODEL_CALL_CAP: '100000000',
    },
  });
  // Its persona's fake model echoes for the time to first byte, then answers each phase's reply.
  const turnModel = model.fakeModel();
  const tenant = await createTenant(app.url, 'bench: turn', { model: turnModel.id });
  tenant.keys.push(...(await addApiKeys(sql, tenant.organizationId, 7)));
  const sessions = await seedSessions(sql, {
    organizationId: tenant.organizationId,
    personaId: tenant.personaId,
    count: 20,
    messagesEach: 2,
  });
  const key = (phase: number) => authHeaders(tenant, tenant.keys[phase % tenant.keys.length] ?? tenant.apiKey);
  const stream = (phase: number, reply: string) => {
    turnModel.configure({ reply });
    return (i: number) =>
      readToEnd(
        `${app.url}/api/trpc/chat.streamMessage?input=${encodeURIComponent(
          JSON.stringify({ chatSessionId: sessions[i % sessions.length], content: `Turn ${i}` }),
        )}`,
        key(phase),
      );
  };

  log(`time to first byte, ${TURNS} turns each`);
  const ttfb = await measureTtfb({
    apiBase: app.url,
    floorBase: floor.url,
    headersFor: () => key(0),
    sessionIds: sessions,
    turns: TTFB_CAP(TURNS),
    warmup: 10,
  });
  log('one-statement read vs the floor constant JSON, 100 each, alternating');
  const timed = async (url: string, headers: Record<string, string>) => {
    const t = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`HTTP ${res.status} from ${new URL(url).pathname}`);
    return performance.now() - t;
  };
  const readUrl = `${app.url}/api/trpc/chat.getSession?input=${encodeURIComponent(JSON.stringify({ id: sessions[0] }))}`;
  const reads: number[] = [];
  const floorReads: number[] = [];
  for (let i = 0; i < 110; i++) {
    const a = await timed(readUrl, key(5));
    const b = await timed(`${floor.url}/json`, {});
    if (i >= 10) {
      reads.push(a);
      floorReads.push(b);
    }
  }
  const read = { apiP50: round(percentile(reads, 50)), floorP50: round(percentile(floorReads, 50)) };
  log(`CPU per turn, ${RUNS} turns per row`);
  const short = await cpuPer(app.pgid, RUNS, stream(1, words(10)));
  const long = await cpuPer(app.pgid, RUNS, stream(2, words(200)));
  const floorCpu = await cpuPer(floor.pgid, RUNS, (i) => readToEnd(`${floor.url}/stream?q=turn${i}`, {}));
  const perToken = (long - short) / 190;
  const cpu = {
    tenWordTurnMs: round(short),
    twoHundredWordTurnMs: round(long),
    perTokenMs: round(perToken, 3),
    fixedMs: round(short - 10 * perToken),
    floorStreamMs: round(floorCpu),
  };

  let profile: { short: ProfileSummary; long: ProfileSummary } | undefined;
  if (options.profile && options.runtime === 'workerd') {
    log(`V8 profiles over ${RUNS} ten-word and ${RUNS} 200-word turns`);
    const target = { inspectorPort, worker: 'worker', bundlePath: join(options.scratch, 'dist-api', 'index.js') };
    const over = async (once: (i: number) => Promise<void>) => {
      for (let i = 0; i < 3; i++) await once(i);
      return profileWorker(target, async () => {
        for (let i = 0; i < RUNS; i++) await once(i);
      });
    };
    profile = { short: await over(stream(3, words(10))), long: await over(stream(4, words(200))) };
  }
  await app.stop();
  await floor.stop();
  await closeSql();
  await throwaway?.drop();
  await model.close();
  return {
    runtime: options.runtime,
    database,
    machine: machine(pgVersion),
    loadAverage: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
    ttfb,
    read,
    cpu,
    profile,
    runs: RUNS,
  };
}

/** One key carries the TTFB turns: keep them under its 600/min. */
const TTFB_CAP = (n: number) => Math.min(n, 250);

export function turnReport(r: Awaited<ReturnType<typeof measureTurn>>): string {
  const out = [
    `\n### One turn on ${r.runtime === 'workerd' ? 'plain workerd (Miniflare API, no dev proxy)' : 'wrangler dev'} (${r.database}; load average ${r.loadAverage.before.join(' ')} before, ${r.loadAverage.after.join(' ')} after)\n`,
  ];
  const { api, floor } = r.ttfb;
  out.push(
    table(
      ['time to first byte', 'p50 ms', 'p99 ms', 'mean ms'],
      [
        ['API chat.streamMessage', fixed(api.p50, 2), fixed(api.p99, 2), fixed(api.mean, 2)],
        ['floor: bare Worker proxying the model', fixed(floor.p50, 2), fixed(floor.p99, 2), fixed(floor.mean, 2)],
        [
          'ratio (target ≤ 1.2×)',
          `${fixed(api.p50 / floor.p50, 2)}×`,
          `${fixed(api.p99 / floor.p99, 2)}×`,
          `${fixed(api.mean / floor.mean, 2)}×`,
        ],
      ],
    ),
  );
  out.push(
    `\nchat.getSession (auth from the warm key cache, 1 statement, tRPC) p50 ${fixed(r.read.apiP50, 2)} ms vs the floor's constant JSON p50 ${fixed(r.read.floorP50, 2)} ms (fetch from Node, 100 each).\n`,
  );
  out.push(`\nworkerd CPU per turn (${r.runs} turns per row, from /proc):\n`);
  out.push(
    table(
      ['', 'ms'],
      [
        ['turn, 10-word reply', fixed(r.cpu.tenWordTurnMs, 2)],
        ['turn, 200-word reply', fixed(r.cpu.twoHundredWordTurnMs, 2)],
        ['per token (difference / 190)', fixed(r.cpu.perTokenMs, 3)],
        ['fixed part per turn (target ≤ 5 ms)', fixed(r.cpu.fixedMs, 2)],
        ['floor: one proxied stream', fixed(r.cpu.floorStreamMs, 2)],
      ],
    ),
  );
  if (r.profile) {
    const { short, long } = r.profile;
    const perTurn = (p: ProfileSummary, module: string) =>
      (p.byModule.find((m) => m.module === module)?.ms ?? 0) / r.runs;
    const modules = [...new Set([...short.byModule.slice(0, 18), ...long.byModule.slice(0, 18)].map((m) => m.module))];
    out.push(
      `\nV8 sampling profile of the isolate (wall-clock samples while on CPU: inflated on a loaded machine, compare shares): ${fixed(short.totalMs / r.runs, 2)} ms per 10-word turn, ${fixed(long.totalMs / r.runs, 2)} ms per 200-word turn. Self time by bundled module:\n`,
    );
    out.push(
      table(
        ['module', '10-word turn ms', 'share', 'per extra token ms', 'share'],
        modules
          .map((m) => ({ m, s: perTurn(short, m), t: (perTurn(long, m) - perTurn(short, m)) / 190 }))
          .sort((a, b) => b.s - a.s)
          .map(({ m, s, t }) => [
            m,
            fixed(s, 2),
            `${fixed((100 * s * r.runs) / short.totalMs, 0)}%`,
            fixed(t, 3),
            `${fixed((100 * t * 190 * r.runs) / (long.totalMs - short.totalMs), 0)}%`,
          ]),
      ),
    );
    for (const [name, p] of [
      ['10-word', short],
      ['200-word', long],
    ] as const) {
      out.push(`\nHottest functions, ${name} turns (self time):\n`);
      out.push(
        table(
          ['function', 'module', 'ms per turn'],
          p.byFunction.slice(0, 15).map((f) => [f.fn, f.module, fixed(f.ms / r.runs, 3)]),
        ),
      );
    }
  }
  return out.join('\n');
}

export function writeTurnResults(r: Awaited<ReturnType<typeof measureTurn>>): void {
  const file = join(root, 'bench', `turn-results-${r.runtime}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  // Formatted as the linter wants it (bench/** is checked), since the sample is committed.
  spawnSync(
    process.execPath,
    [join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'format', '--write', file],
    {
      stdio: 'ignore',
    },
  );
}
