/**
 * The runtime a bench Worker runs on: `wrangler dev` (what `npm run dev` uses: a proxy Worker, the
 * inspector proxy and wrangler's Node process in front of workerd) or plain workerd (the bundle
 * `wrangler deploy --dry-run` would upload, served by Miniflare's API in a child process:
 * bench/lib/workerd-child.ts). Both answer on loopback; `pgid` is the process group whose CPU is
 * the runtime's.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { measureBundle } from './bundle.ts';
import { freePort, sleep, spawnGroup } from './proc.ts';
import { type DevServer, startWranglerDev } from './wrangler.ts';

export type Runtime = 'wrangler' | 'workerd';

const child = new URL('./workerd-child.ts', import.meta.url).pathname;

export async function startRuntime(
  runtime: Runtime,
  options: { name: string; project: string; scratch: string; vars: Record<string, string>; inspectorPort?: number },
): Promise<DevServer> {
  if (runtime === 'wrangler') {
    return startWranglerDev({
      name: `wrangler dev (${options.name})`,
      cwd: options.project,
      persistTo: join(options.scratch, `wrangler-state-${options.name}`),
      vars: options.vars,
      inspectorPort: options.inspectorPort,
    });
  }
  const dist = join(options.scratch, `dist-${options.name}`);
  mkdirSync(dist, { recursive: true });
  await measureBundle(dist, { project: options.project });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const run = spawnGroup(
    `workerd (${options.name})`,
    process.execPath,
    [
      child,
      JSON.stringify({
        config: join(options.project, 'wrangler.toml'),
        dist,
        port,
        vars: options.vars,
        ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
      }),
    ],
    { cwd: options.project },
  );
  const deadline = started + 120_000;
  while (performance.now() < deadline && run.proc.exitCode === null) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok)
        return {
          url,
          startupMs: performance.now() - started,
          pgid: run.proc.pid ?? -1,
          stop: run.stop,
          output: run.output,
        };
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
  await run.stop();
  throw new Error(`workerd (${options.name}) did not become healthy at ${url}/health:\n${run.output()}`);
}
