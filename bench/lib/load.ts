import { join } from 'node:path';
import { type CpuBreakdown, cpuBetween, cpuSnapshot } from './cpu.ts';
import type { LoadJob } from './load-child.ts';
import { spawnGroup } from './proc.ts';
import { round } from './stats.ts';

export type LoadResult = {
  requestsPerSec: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  /** CPU milliseconds per request, by process bucket (see cpu.ts). */
  cpuMsPerRequest: CpuBreakdown;
};

const child = join(import.meta.dirname, 'load-child.ts');

/**
 * Runs autocannon in a child process; bounded by the job's duration plus a margin. `targetPgid`
 * is the process group of the wrangler dev under load (for the CPU breakdown).
 */
export async function runLoad(job: LoadJob, targetPgid: number): Promise<LoadResult> {
  const before = cpuSnapshot();
  const run = spawnGroup(`autocannon ${job.paths[0] ?? ''}`, process.execPath, [child, JSON.stringify(job)], {
    env: process.env,
  });
  const killer = setTimeout(() => void run.stop(), (job.durationSec + 30) * 1000);
  const code = await new Promise<number | null>((resolve) => run.proc.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  const after = cpuSnapshot();
  await run.stop();
  const line = run
    .output()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"total"'));
  if (code !== 0 || !line) throw new Error(`autocannon failed (exit ${code}):\n${run.output().slice(-2000)}`);
  const r = JSON.parse(line) as {
    total: number;
    durationSec: number;
    non2xx: number;
    errors: number;
    timeouts: number;
    statusCodes: Record<string, number>;
    cpuMs: number;
    latency: { p50: number; p99: number };
  };
  const cpu: CpuBreakdown = { ...cpuBetween(before, after, targetPgid), 'load generator': r.cpuMs };
  const perRequest = Object.fromEntries(
    Object.entries(cpu).map(([k, ms]) => [k, r.total > 0 ? round(ms / r.total, 2) : 0]),
  );
  return {
    requestsPerSec: round(r.total / r.durationSec, 1),
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.total,
    non2xx: r.non2xx,
    errors: r.errors,
    statusCodes: r.statusCodes,
    cpuMsPerRequest: perRequest,
  };
}
