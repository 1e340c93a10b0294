/**
 * CPU time per process group during a load run, from /proc (Linux): where the 2 cores went. Each
 * process is put in one bucket: the Worker runtime (workerd), wrangler's own Node process (and its
 * esbuild), this bench process (the SQL endpoint and the model server live here), PostgreSQL, or
 * other. The load generator reports its own CPU (it has exited by the second snapshot).
 */
import { readdirSync, readFileSync } from 'node:fs';

type Proc = { comm: string; pgid: number; ticks: number };
const TICK_MS = 10; // USER_HZ is 100 on Linux

export function cpuSnapshot(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out; // not Linux: no breakdown
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is state: pgrp is field 5 of stat, utime 14, stime 15 (1-based, pid first).
      out.set(Number(pid), { comm, pgid: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export type CpuBreakdown = Record<string, number>;

/** CPU milliseconds per bucket between two snapshots; `targetPgid` is the loaded wrangler dev's group. */
export function cpuBetween(before: Map<number, Proc>, after: Map<number, Proc>, targetPgid: number): CpuBreakdown {
  const buckets: CpuBreakdown = {
    workerd: 0,
    'wrangler (Node)': 0,
    'bench (SQL endpoint, model)': 0,
    postgres: 0,
    other: 0,
  };
  for (const [pid, now] of after) {
    const ms = (now.ticks - (before.get(pid)?.ticks ?? 0)) * TICK_MS;
    if (ms <= 0) continue;
    let bucket = 'other';
    if (pid === process.pid) bucket = 'bench (SQL endpoint, model)';
    else if (now.comm === 'postgres') bucket = 'postgres';
    else if (now.pgid === targetPgid) bucket = now.comm === 'workerd' ? 'workerd' : 'wrangler (Node)';
    buckets[bucket] = (buckets[bucket] ?? 0) + ms;
  }
  return buckets;
}
