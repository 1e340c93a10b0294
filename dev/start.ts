/**
 * `npm run dev`: the whole API on this machine with embedded defaults.
 *  1. a local SQL-over-HTTP endpoint in front of embedded PostgreSQL (PGlite, persisted in
 *     .dev/pglite), or in front of DATABASE_URL when one is given; migrations applied;
 *  2. `wrangler dev` (workerd) on 127.0.0.1:$PORT (8787), offline: no login, no telemetry;
 *  3. on first start a demo organization, API key and persona, written to .dev/demo.json.
 * Without OPENAI_API_KEY replies come from the built-in offline model (labelled as such).
 * Settings (every one of the README's configuration table) come from `.dev.vars`, the environment and
 * `npm run dev -- --var NAME:VALUE`, checked by dev/settings.ts before anything starts.
 * State lives in .dev/ (DEV_STATE_DIR moves it, relative to the project root: the e2e test uses a
 * throwaway folder). The playground at / gets the demo credentials from a loopback-only endpoint
 * of this process (PLAYGROUND_DEMO_URL), which answers once the demo exists.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { devNull } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIN_ADMIN_TOKEN_LENGTH } from '../src/settings.ts';
import { type DevSettingName, resolveDevSettings, SettingsError } from './settings.ts';
import { refuseForeign, startSqlServer } from './sql-server.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const stateDir = resolve(root, process.env.DEV_STATE_DIR || '.dev');
/** A state path as printed: relative to the project when inside it. */
const shown = (path: string) => (path.startsWith(root) ? relative(root, path) : path);
const port = Number(process.env.PORT || 8787);
for (const [name, value] of [
  ['PORT', process.env.PORT],
  ['INSPECTOR_PORT', process.env.INSPECTOR_PORT],
]) {
  if (value && !(/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535)) {
    console.error(`[dev] cannot start: ${name} must be a port number (1-65535), got "${value}"`);
    process.exit(1);
  }
}
const host = '127.0.0.1';
const baseUrl = `http://${host}:${port}`;

// ---- Guards: what `npm run dev` refuses to do (kept apart from the start-up sequence below) ----

/** Host names of a DATABASE_URL that are this machine: the only databases dev may migrate and seed. */
function isLocalDatabaseUrl(databaseUrl: string): boolean {
  try {
    const host = new URL(databaseUrl).hostname.toLowerCase().replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '';
  } catch {
    return false;
  }
}

/**
 * `npm run dev` migrates its database and creates a demo organization in it: with a DATABASE_URL
 * left in the shell from production work that would be Neon. Only local databases, unless
 * ALLOW_REMOTE_DATABASE=1 says the remote one is meant.
 */
function assertDevDatabase(databaseUrl: string | undefined, allowRemote: string | undefined): void {
  if (!databaseUrl || isLocalDatabaseUrl(databaseUrl) || allowRemote === '1') return;
  throw new Error(
    'DATABASE_URL points at a database on another machine; `npm run dev` would migrate it and create a demo organization there. Unset DATABASE_URL for the embedded database, point it at a local PostgreSQL, or set ALLOW_REMOTE_DATABASE=1 if that database is meant.',
  );
}

/** The Worker's rule (src/settings.ts, enforced in src/routes/admin.ts): admin tokens of 32 characters or more. */
function assertAdminToken(token: string): void {
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new Error(
      `ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (it has ${token.length}); the admin API refuses shorter ones. Generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`,
    );
  }
}

/**
 * The secret of this start: the local SQL endpoint and the demo endpoint refuse requests without it,
 * so other local processes and web pages cannot use them. New on every start, never written down.
 */
function newLocalDevSecret(): string {
  return randomBytes(24).toString('base64url');
}

type Demo = { baseUrl: string; organizationId: string; apiKey: string; personaId: string };

/** The Worker's settings from .dev.vars, the environment and --var; stops with every problem listed. */
function devSettings() {
  const devVarsFile = join(root, '.dev.vars');
  try {
    return resolveDevSettings({
      devVars: existsSync(devVarsFile) ? readFileSync(devVarsFile, 'utf8') : undefined,
      env: process.env,
      argv: process.argv.slice(2),
    });
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    console.error(
      `[dev] cannot start, fix these settings (see Configuration in the README):\n${error.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    process.exit(1);
  }
}

/** A loopback port free right now (for the inspector, so two dev servers do not fight over 9229). */
function freePort(): Promise<number> {
  return new Promise((ready, fail) => {
    const probe = createTcpServer();
    probe.once('error', fail);
    probe.listen(0, host, () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => ready(free));
    });
  });
}

type LocalState = { adminToken: string; visitorTokenSecret?: string };

function localState(): Required<LocalState> {
  const file = join(stateDir, 'state.json');
  const state: LocalState = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as LocalState)
    : { adminToken: `adm_${randomBytes(24).toString('base64url')}` };
  // Older state files predate the widget: add its signing secret once, so visitor tokens survive restarts.
  if (!state.visitorTokenSecret || !existsSync(file)) {
    state.visitorTokenSecret ??= randomBytes(32).toString('base64url');
    writeFileSync(file, JSON.stringify(state, null, 2));
  }
  return { adminToken: state.adminToken, visitorTokenSecret: state.visitorTokenSecret };
}

async function waitForHealth(deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < until) {
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the API did not become healthy at ${baseUrl}/health (${last})`);
}

async function call(path: string, init: RequestInit): Promise<any> {
  const res = await fetch(baseUrl + path, init);
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Creates the demo tenant through the public and operator APIs, or reuses the one on disk. */
async function ensureDemo(adminToken: string): Promise<Demo> {
  const file = join(stateDir, 'demo.json');
  const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  if (existsSync(file)) {
    const demo = JSON.parse(readFileSync(file, 'utf8')) as Demo;
    const check = await fetch(
      `${baseUrl}/api/trpc/persona.get?input=${encodeURIComponent(JSON.stringify({ id: demo.personaId }))}`,
      {
        headers: { 'x-api-key': demo.apiKey, 'x-organization-id': demo.organizationId },
      },
    );
    if (check.ok) {
      // `npm run admin` finds the server through this file: keep the address current.
      if (demo.baseUrl !== baseUrl) writeFileSync(file, `${JSON.stringify({ ...demo, baseUrl }, null, 2)}\n`);
      return { ...demo, baseUrl };
    }
    console.log('[dev] demo.json does not match the database; creating a new demo organization');
  }
  const created = await call('/admin/v1/organizations', {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: 'Demo organization' }),
  });
  const auth = { 'x-api-key': created.apiKey.key, 'x-organization-id': created.organization.id };
  const persona = await call('/api/trpc/persona.create', {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      json: {
        name: 'Customer Support Agent',
        description: 'A friendly support agent for the demo organization.',
        instructions: 'You are a friendly, concise customer support agent. Answer in at most three sentences.',
        greeting: 'Hi! How can I help you today?',
        avatarUrl: 'https://example.com/avatars/support.png',
      },
    }),
  });
  const demo: Demo = {
    baseUrl,
    organizationId: created.organization.id,
    apiKey: created.apiKey.key,
    personaId: persona.result.data.id,
  };
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`);
  return demo;
}

/**
 * The demo credentials for the playground page, served on an ephemeral loopback port. Wrangler gets
 * this URL as a var when it starts, before the demo exists on a first run: the endpoint answers 503
 * until `ready` is called, so nothing needs restarting.
 */
async function startDemoEndpoint(secret: string) {
  let demo: Demo | undefined;
  const server = createServer((req, res) => {
    // Only the Worker of this start: loopback Host, no browser Origin, the per-start secret.
    const refused = refuseForeign(req, secret);
    if (refused) {
      res.writeHead(refused.status, { 'content-type': 'application/json' }).end(JSON.stringify(refused));
      return;
    }
    if (req.method !== 'GET' || req.url !== '/demo.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(demo ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(demo ? { organizationId: demo.organizationId, apiKey: demo.apiKey } : { pending: true }));
  });
  await new Promise<void>((ready) => server.listen(0, host, ready));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/demo.json`,
    ready: (value: Demo) => {
      demo = value;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

async function main() {
  const settings = devSettings();
  mkdirSync(stateDir, { recursive: true });
  const databaseUrl = settings.values.DATABASE_URL;
  assertDevDatabase(databaseUrl, settings.values.ALLOW_REMOTE_DATABASE);
  const secret = newLocalDevSecret();
  const started = Date.now();
  console.log(
    databaseUrl
      ? '[dev] database: DATABASE_URL'
      : `[dev] database: embedded PostgreSQL (PGlite) in ${shown(join(stateDir, 'pglite'))}`,
  );
  const sql = await startSqlServer({
    databaseUrl,
    dataDir: databaseUrl ? undefined : join(stateDir, 'pglite'),
    secret,
  });
  console.log(`[dev] database ready, migrations applied (${Date.now() - started} ms)`);
  const { adminToken, visitorTokenSecret } = localState();
  assertAdminToken(adminToken);
  const demoEndpoint = await startDemoEndpoint(secret);

  const vars: Record<string, string> = {
    // The local endpoint ignores the connection string; the driver only needs a well-formed one.
    DATABASE_URL: 'postgresql://app:local@db.localhost:5432/app',
    LOCAL_SQL_ENDPOINT: sql.url,
    LOCAL_DEV_SECRET: secret,
    // Without OPENAI_API_KEY the built-in offline model answers; a deployment never sets this.
    OFFLINE_MODEL: '1',
    ADMIN_TOKEN: adminToken,
    // Generated once into .dev/state.json unless set like any other setting (below overrides it).
    VISITOR_TOKEN_SECRET: visitorTokenSecret,
    // Dev only: lets the playground at / pre-fill the demo credentials (src/routes/playground.ts).
    PLAYGROUND_DEMO_URL: demoEndpoint.url,
  };
  const applied: string[] = [];
  for (const [name, value] of Object.entries(settings.values) as [DevSettingName, string][]) {
    // The SQL endpoint above connects to the database; the remote-database switch is for this script.
    if (name === 'DATABASE_URL' || name === 'ALLOW_REMOTE_DATABASE') continue;
    vars[name] = value;
    applied.push(`${name} (${settings.origin[name]})`);
  }
  if (applied.length) console.log(`[dev] settings: ${applied.join(', ')}`);
  const args = [
    'dev',
    '--ip',
    host,
    '--port',
    String(port),
    '--test-scheduled',
    '--persist-to',
    join(stateDir, 'wrangler'),
    // Settings reach the Worker only as --var below, already merged and checked: wrangler must not
    // read .dev.vars or .env by itself (it would expand $ in values and bypass the checks).
    '--env-file',
    devNull,
    '--inspector-port',
    process.env.INSPECTOR_PORT || String(await freePort()),
  ];
  for (const [key, value] of Object.entries(vars)) args.push('--var', `${key}:${value}`);
  const wrangler = spawn(join(root, 'node_modules', '.bin', 'wrangler'), args, {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      // With --env-file given, this keeps wrangler from loading any .env file either.
      CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      CI: process.env.CI ?? '',
    },
  });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    wrangler.kill('SIGTERM');
    await demoEndpoint.close().catch(() => {});
    await sql.close().catch(() => {});
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  wrangler.on('exit', (code) => {
    if (!stopping) {
      console.error(`[dev] wrangler exited (${code})`);
      void stop(code ?? 1);
    }
  });

  await waitForHealth(120_000);
  const demo = await ensureDemo(adminToken);
  demoEndpoint.ready(demo);
  const model = vars.OPENAI_API_KEY
    ? `OpenAI-compatible provider${vars.OPENAI_BASE_URL ? ` at ${vars.OPENAI_BASE_URL}` : ''}`
    : 'built-in OFFLINE model (not an AI; set OPENAI_API_KEY for real replies)';
  console.log(`
[dev] Conversations API ready at ${baseUrl}  (${Date.now() - started} ms)
      model:           ${model}
      organization:    ${demo.organizationId}
      API key:         ${demo.apiKey}
      demo persona:    ${demo.personaId}
      admin token:     ${adminToken}   (operator API under /admin/v1)
      saved to ${shown(join(stateDir, 'demo.json'))}
      playground:      ${baseUrl}/   (demo credentials pre-filled)

      curl "${baseUrl}/api/trpc/chat.listSessions?input=%7B%7D" -H "X-API-Key: ${demo.apiKey}" -H "X-Organization-ID: ${demo.organizationId}"
`);
}

main().catch((error) => {
  console.error('[dev] failed to start:', error);
  process.exit(1);
});
