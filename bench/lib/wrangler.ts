import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, sleep, spawnGroup } from './proc.ts';

export const root = new URL('../..', import.meta.url).pathname;
const wranglerJs = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

/** wrangler on the same Node as the bench (the project's Node 24, whatever PATH says). */
export function wranglerCommand(args: string[]): [string, string[]] {
  return [process.execPath, [wranglerJs, ...args]];
}

let logDir: string | undefined;

/** Wrangler's debug logs go here (a folder the bench removes) instead of the user's config folder. */
export function setWranglerLogDir(dir: string): void {
  logDir = dir;
}

/** Offline, quiet, no telemetry: the settings every wrangler run of the bench uses. */
export function wranglerEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    CI: 'true',
    NO_COLOR: '1',
    ...(logDir ? { WRANGLER_LOG_PATH: logDir } : {}),
  };
}

/**
 * A folder holding the floor Worker's wrangler.toml: wrangler runs for the floor use it as their
 * working directory, so its .wrangler/ goes there too. Same compatibility settings as the API.
 */
export function floorProject(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'wrangler.toml');
  const appConfig = readFileSync(join(root, 'wrangler.toml'), 'utf8');
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(appConfig)?.[1] ?? '2026-11-01';
  const main = join(root, 'bench', 'floor-worker.ts');
  writeFileSync(
    path,
    [
      'name = "persona-bench-floor"',
      `main = ${JSON.stringify(main)}`,
      `compatibility_date = ${JSON.stringify(compatibilityDate)}`,
      'compatibility_flags = ["nodejs_compat"]',
      'send_metrics = false',
      '',
    ].join('\n'),
  );
  return dir;
}

export type DevServer = {
  url: string;
  /** From spawning `wrangler dev` to the first 200 from GET /health. */
  startupMs: number;
  /** Process group of wrangler dev and its workerd processes. */
  pgid: number;
  stop: () => Promise<void>;
  output: () => string;
};

/**
 * `wrangler dev --log-level warn` on a free loopback port with its own inspector port. `script`
 * overrides the configured entry point; `cwd` decides which wrangler.toml (if any) applies.
 */
export async function startWranglerDev(options: {
  name: string;
  cwd: string;
  persistTo: string;
  vars?: Record<string, string>;
  extraArgs?: string[];
  timeoutMs?: number;
  /** Fixed ports (a machine shared by several runs assigns them); free ones otherwise. */
  port?: number;
  inspectorPort?: number;
}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const inspectorPort = options.inspectorPort ?? (await freePort());
  const args = ['dev', ...(options.extraArgs ?? [])];
  args.push('--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort));
  args.push('--log-level', 'warn', '--persist-to', options.persistTo, '--show-interactive-dev-session=false');
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push('--var', `${key}:${value}`);
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawnGroup(options.name, ...wranglerCommand(args), { cwd: options.cwd, env: wranglerEnv() });
  const deadline = started + (options.timeoutMs ?? 120_000);
  while (performance.now() < deadline) {
    if (child.proc.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) {
        const startupMs = performance.now() - started;
        return { url, startupMs, pgid: child.proc.pid ?? -1, stop: child.stop, output: child.output };
      }
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
  await child.stop();
  throw new Error(`${options.name} did not become healthy at ${url}/health:\n${child.output()}`);
}
