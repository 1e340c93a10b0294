/**
 * Plain-workerd runtime for the bench: serves a Worker bundle built by `wrangler deploy --dry-run
 * --outdir` with Miniflare's API (workerd, the Durable Objects in memory), without `wrangler dev`'s
 * proxy Worker, its esbuild watcher or its inspector proxy in front. The bindings come from the
 * project's wrangler.toml through wrangler's own translation (`unstable_getMiniflareWorkerOptions`),
 * so the Worker sees what `wrangler dev` gives it. Run as a child process (its own process group,
 * so the bench can count workerd's CPU apart): node workerd-child.ts '<json options>'; prints
 * `ready <url>` once listening and stops on SIGTERM.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
// wrangler's own Miniflare: the options unstable_getMiniflareWorkerOptions returns are in its shape.
import {
  convertV4MiniflareOptions,
  Miniflare,
} from '../../node_modules/wrangler/node_modules/miniflare/dist/src/index.js';

type Options = {
  /** The wrangler.toml whose bindings apply. */
  config: string;
  /** The `--outdir` of `wrangler deploy --dry-run` for that config. */
  dist: string;
  port: number;
  inspectorPort?: number;
  vars?: Record<string, string>;
};

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const { workerOptions } = unstable_getMiniflareWorkerOptions(options.config);
// The entry is named after the config's `main` (src/index.ts → index.js); the other files wrangler
// wrote (its [[rules]]: the playground's .js, .css and .html) are modules the entry imports as text.
const main = /^main\s*=\s*"([^"]+)"/m.exec(readFileSync(options.config, 'utf8'))?.[1] ?? 'index.ts';
const entry = basename(main).replace(/\.[cm]?[jt]s$/, '.js');
const extra = readdirSync(options.dist, { withFileTypes: true })
  .filter((f) => f.isFile() && f.name !== entry && !f.name.endsWith('.map') && !/^readme/i.test(f.name))
  .map((f) => f.name);
// Miniflare 5 takes a new option shape; wrangler's translation still returns the v4 one.
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: '127.0.0.1',
    port: options.port,
    ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
    workers: [
      {
        ...workerOptions,
        name: 'worker',
        modulesRoot: options.dist,
        modules: [
          { type: 'ESModule', path: join(options.dist, entry) },
          ...extra.map((f) => ({ type: 'Text' as const, path: join(options.dist, f) })),
        ],
        bindings: { ...(workerOptions.bindings ?? {}), ...(options.vars ?? {}) },
      } as never,
    ],
  } as never),
);
const url = await mf.ready;
console.log(`ready ${url.origin}`);
const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
