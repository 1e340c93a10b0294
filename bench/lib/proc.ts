import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { assertRunning, onCleanup } from './cleanup.ts';

/** A free TCP port on loopback (bound and released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export type Child = { proc: ChildProcess; output: () => string; stop: () => Promise<void> };

/**
 * Spawns a command in its own process group, so stopping it also stops whatever it started
 * (wrangler dev starts workerd). Output is kept (the last 64 KB) for error reports.
 */
export function spawnGroup(name: string, command: string, args: string[], options: SpawnOptions = {}): Child {
  assertRunning();
  const proc = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (proc.pid) process.kill(-proc.pid, sig);
    } catch {
      // already gone
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      // The group may outlive its leader (workerd after wrangler): make sure it is gone.
      signal('SIGKILL');
    })();
    return stopping;
  };
  // Kept until the end even after a stop: stopping twice is harmless and sweeps the group again.
  onCleanup(name, stop);
  return { proc, output: () => output, stop };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
