/**
 * `npm run bench:search`: search.messages on 100,000 messages of one organization (beside another
 * organization holding as many, with the same words), against chat.getSession (50 messages) in the
 * same run as the reference row. Runs on its own (a few minutes); prints a Markdown table and
 * writes bench/search-results.json. Needs the machine's PostgreSQL (BENCH_POSTGRES_URL).
 *
 * Settings: BENCH_SEARCH_MESSAGES (100000), BENCH_LOAD_SECONDS (10), BENCH_CONNECTIONS (10),
 * BENCH_PORT / BENCH_INSPECTOR_PORT (fixed ports for wrangler dev; free ones otherwise).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startSqlServer } from '../dev/sql-server.ts';
import { newId } from '../src/ids.ts';
import { ADMIN_TOKEN, authHeaders, createTenant, type Tenant, trpcQuery } from './lib/api.ts';
import { assertRunning, installExitHandlers, onCleanup, runCleanup } from './lib/cleanup.ts';
import { runLoad } from './lib/load.ts';
import { machine } from './lib/machine.ts';
import { createThrowawayDatabase, postgresVersion } from './lib/postgres.ts';
import { addApiKeys, type SqlEndpoint, seedSessions, sqlBatch } from './lib/seed.ts';
import { round } from './lib/stats.ts';
import { table } from './lib/table.ts';
import { root, setWranglerLogDir, startWranglerDev } from './lib/wrangler.ts';

const MESSAGES = Number(process.env.BENCH_SEARCH_MESSAGES ?? 100_000);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PER_SESSION = 100;
const VOCABULARY = 20_000;

const began = performance.now();
const log = (m: string) => console.error(`[bench:search ${((performance.now() - began) / 1000).toFixed(0)}s] ${m}`);
const enc = (input: unknown) => encodeURIComponent(JSON.stringify(input));

/** Deterministic words: `w<n>` spelled with syllables, so each is one lexeme of the simple parser. */
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'do', 'fe', 'gu', 'hi', 'ja', 'be'];
function word(n: number): string {
  let out = '';
  let k = n + 16;
  while (k > 0) {
    out += SYLLABLES[k % 16];
    k = Math.floor(k / 16);
  }
  return out;
}

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 10–60 words, skewed so low-numbered words are common and high ones rare (roughly Zipf). */
function text(rand: () => number): string {
  const n = 10 + Math.floor(rand() * 50);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(word(Math.floor(VOCABULARY * rand() ** 4)));
  return words.join(' ');
}

async function seedText(sqlUrl: SqlEndpoint, tenant: Tenant, seed: number) {
  const rand = prng(seed);
  const sessions = MESSAGES / PER_SESSION;
  const now = Date.now() - 86_400_000;
  for (let start = 0; start < sessions; start += 50) {
    const ss: Record<string, unknown>[] = [];
    const ms: Record<string, unknown>[] = [];
    for (let k = start; k < Math.min(sessions, start + 50); k++) {
      const id = newId('session');
      const first = now - k * 3_600_000;
      ss.push({ id, title: `Topic ${word(k)}`, at: new Date(first + PER_SESSION * 1000).toISOString() });
      for (let j = 0; j < PER_SESSION; j++) {
        ms.push({
          id: newId('message'),
          session: id,
          role: j % 2 === 0 ? 'USER' : 'ASSISTANT',
          content: text(rand),
          at: new Date(first + j * 1000).toISOString(),
        });
      }
    }
    await sqlBatch(sqlUrl, [
      {
        query: `insert into chat_sessions (id, organization_id, persona_id, title, platform, message_count, last_activity_at, created_at, updated_at)
          select x.id, $2, $3, x.title, 'API', ${PER_SESSION}, x.at, x.at, x.at
          from jsonb_to_recordset($1::jsonb) as x(id text, title text, at timestamptz)`,
        params: [JSON.stringify(ss), tenant.organizationId, tenant.personaId],
      },
      {
        query: `insert into messages (id, organization_id, chat_session_id, role, content, created_at, updated_at)
          select x.id, $2, x.session, x.role::message_role, x.content, x.at, x.at
          from jsonb_to_recordset($1::jsonb) as x(id text, session text, role text, content text, at timestamptz)`,
        params: [JSON.stringify(ms), tenant.organizationId],
      },
    ]);
  }
}

async function main() {
  installExitHandlers();
  const pgVersion = await postgresVersion();
  if (!pgVersion) throw new Error('PostgreSQL is not reachable (BENCH_POSTGRES_URL)');
  const scratch = mkdtempSync(join(tmpdir(), 'persona-bench-search-'));
  onCleanup('remove scratch folder', () => rmSync(scratch, { recursive: true, force: true }));
  setWranglerLogDir(scratch);
  const db = await createThrowawayDatabase();
  assertRunning();
  const sql = await startSqlServer({ databaseUrl: db.url, secret: randomBytes(24).toString('base64url') });
  onCleanup('close SQL endpoint', () => sql.close());
  const app = await startWranglerDev({
    name: 'wrangler dev (API, search bench)',
    cwd: root,
    persistTo: join(scratch, 'wrangler-state'),
    port: process.env.BENCH_PORT ? Number(process.env.BENCH_PORT) : undefined,
    inspectorPort: process.env.BENCH_INSPECTOR_PORT ? Number(process.env.BENCH_INSPECTOR_PORT) : undefined,
    vars: {
      DATABASE_URL: 'postgresql://app:local@db.localhost:5432/app',
      LOCAL_SQL_ENDPOINT: sql.url,
      LOCAL_DEV_SECRET: sql.secret,
      ADMIN_TOKEN,
    },
  });
  onCleanup('stop wrangler dev', () => app.stop());

  log(`seeding ${MESSAGES} messages in the measured organization and ${MESSAGES} in another`);
  const t = performance.now();
  const tenant = await createTenant(app.url, 'bench: search');
  tenant.keys.push(...(await addApiKeys(sql, tenant.organizationId, 63)));
  const noise = await createTenant(app.url, 'bench: search, other organization');
  await seedText(sql, tenant, 1);
  await seedText(sql, noise, 2);
  const [getSessionId = ''] = await seedSessions(sql, {
    organizationId: tenant.organizationId,
    personaId: tenant.personaId,
    count: 1,
    messagesEach: 50,
  });
  await sqlBatch(sql, [{ query: 'analyze', params: [] }]);
  const seedMs = performance.now() - t;
  log(`seeded and analyzed in ${(seedMs / 1000).toFixed(0)} s`);

  // How many of the organization's messages each query matches (direct count, not timed).
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const matches = async (q: string) =>
    Number(
      (
        await client.query(
          `select count(*) from messages where organization_id = $1
             and search_vector @@ (websearch_to_tsquery('simple'::regconfig, $2) && quote_literal($1)::tsquery)`,
          [tenant.organizationId, q],
        )
      ).rows[0].count,
    );
  const rare = word(VOCABULARY - 50);
  const mid = word(600);
  const common = word(1);
  const cases = [
    { label: `rare word`, input: { query: rare } },
    { label: `mid-frequency word`, input: { query: mid } },
    { label: `common word (past the ranking cap)`, input: { query: common } },
    { label: `two words`, input: { query: `${mid} ${word(300)}` } },
    { label: `quoted phrase`, input: { query: `"${word(2)} ${word(3)}"` } },
    { label: `mid word, page 2 (cursor)`, input: { query: mid }, page2: true },
  ];
  const plan = [] as { label: string; path: string; matches: number | null }[];
  plan.push({
    label: 'chat.getSession (50 messages): reference',
    path: `/api/trpc/chat.getSession?input=${enc({ id: getSessionId })}`,
    matches: null,
  });
  const headers = authHeaders(tenant, tenant.apiKey);
  for (const c of cases) {
    let input: Record<string, unknown> = c.input;
    if (c.page2) {
      const first = await trpcQuery(app.url, headers, 'search.messages', c.input);
      input = { ...c.input, cursor: first.nextCursor };
    }
    const check = await trpcQuery(app.url, headers, 'search.messages', input);
    if (!Array.isArray(check.items) || check.items.length === 0) throw new Error(`${c.label}: no hits`);
    plan.push({
      label: `search.messages, ${c.label}`,
      path: `/api/trpc/search.messages?input=${enc(input)}`,
      matches: await matches(c.input.query),
    });
  }
  const explain = await client.query(
    `explain select count(*) from messages where organization_id = $1
       and search_vector @@ (websearch_to_tsquery('simple'::regconfig, $2) && quote_literal($1)::tsquery)`,
    [tenant.organizationId, rare],
  );
  await client.end();
  const usesIndex = explain.rows.some((r) => String(r['QUERY PLAN']).includes('messages_search_idx'));

  const rows = [];
  for (const p of plan) {
    const job = {
      url: app.url,
      method: 'GET' as const,
      paths: [p.path],
      keys: tenant.keys,
      organizationId: tenant.organizationId,
      connections: CONNECTIONS,
    };
    await runLoad({ ...job, durationSec: 1 }, app.pgid);
    const r = await runLoad({ ...job, durationSec: LOAD_SECONDS }, app.pgid);
    log(`${p.label}: ${r.requestsPerSec} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}`);
    rows.push({ ...p, ...r, databaseCpuMs: r.cpuMsPerRequest.postgres });
  }
  const reference = rows[0];
  const info = machine(pgVersion);
  const results = {
    generatedAt: new Date().toISOString(),
    command: 'npm run bench:search',
    durationSec: round((performance.now() - began) / 1000, 1),
    machine: info,
    settings: {
      messages: MESSAGES,
      perSession: PER_SESSION,
      vocabulary: VOCABULARY,
      connections: CONNECTIONS,
      loadSeconds: LOAD_SECONDS,
    },
    seedMs: round(seedMs, 0),
    planUsesSearchIndex: usesIndex,
    rows: rows.map(({ path: _path, ...r }) => r),
    target: {
      what: 'search p50 under the chat.getSession (50 messages) p50 of the same run',
      met: rows.slice(1).every((r) => reference && r.p50 < reference.p50),
    },
  };
  const resultsFile = join(root, 'bench', 'search-results.json');
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  // Formatted as the linter wants it (bench/** is checked), since the sample is committed.
  const biome = join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  spawnSync(process.execPath, [biome, 'format', '--write', resultsFile], { stdio: 'ignore' });
  console.log(
    table(
      ['operation', 'matches', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'database CPU ms/req'],
      rows.map((r) => [
        r.label,
        r.matches === null ? '–' : r.matches.toLocaleString('en-US'),
        r.requestsPerSec,
        r.p50,
        r.p99,
        r.non2xx,
        r.databaseCpuMs ?? '–',
      ]),
    ),
  );
  console.log(`\nsearch index used: ${usesIndex}; target met: ${results.target.met}`);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => runCleanup());
