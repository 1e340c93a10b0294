/**
 * The deployable bundle (`wrangler deploy --dry-run --outdir`): raw and gzip bytes of what would be
 * uploaded (source maps excluded), and `wrangler check startup`: wrangler's local CPU profile of
 * the Worker's startup phase (module evaluation), for the API and the floor Worker.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnGroup } from './proc.ts';
import { root, wranglerCommand, wranglerEnv } from './wrangler.ts';

async function wrangler(name: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<string> {
  const run = spawnGroup(name, ...wranglerCommand(args), { cwd, env: wranglerEnv() });
  const killer = setTimeout(() => void run.stop(), timeoutMs);
  const code = await new Promise<number | null>((resolve) => run.proc.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  await run.stop();
  if (code !== 0) throw new Error(`wrangler ${args.join(' ')} failed (exit ${code}):\n${run.output().slice(-3000)}`);
  return run.output();
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

export type BundleResult = {
  files: { file: string; bytes: number; gzipBytes: number }[];
  rawBytes: number;
  gzipBytes: number;
  wranglerReported: string | undefined;
};

/** `project` (a folder with a wrangler.toml) builds another Worker than the API (the floor). */
export async function measureBundle(outdir: string, options: { minify?: boolean; project?: string } = {}) {
  const output = await wrangler(
    'wrangler deploy --dry-run',
    ['deploy', '--dry-run', '--outdir', outdir, ...(options.minify ? ['--minify'] : [])],
    options.project ?? root,
  );
  const list = files(outdir)
    .filter((f) => !f.endsWith('.map') && !f.endsWith('README.md'))
    .map((f) => {
      const bytes = readFileSync(f);
      return { file: relative(outdir, f), bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
    });
  const result: BundleResult = {
    files: list,
    rawBytes: list.reduce((a, f) => a + f.bytes, 0),
    gzipBytes: list.reduce((a, f) => a + f.gzipBytes, 0),
    wranglerReported: /Total Upload:[^\n]*/.exec(output)?.[0]?.trim(),
  };
  return result;
}

export type StartupProfile = { activeMs: number; gcMs: number; windowMs: number };

/** `wrangler check startup` (it builds the Worker itself) for the API, or for another project (the floor). */
export async function startupProfile(outfile: string, project?: string): Promise<StartupProfile> {
  const output = await wrangler('wrangler check startup', ['check', 'startup', '--outfile', outfile], project ?? root);
  const active = /Active: ([\d.]+) ms(?: \(including ([\d.]+) ms garbage collection\))?/.exec(output);
  const window = /Profile window: ([\d.]+) ms/.exec(output);
  if (!active) throw new Error(`could not read wrangler check startup's output:\n${output.slice(-2000)}`);
  return { activeMs: Number(active[1]), gcMs: Number(active[2] ?? 0), windowMs: Number(window?.[1] ?? Number.NaN) };
}
