/**
 * Where a Worker's CPU goes: the V8 sampling profiler of workerd's isolate over the inspector
 * (Chrome DevTools protocol, Node's built-in WebSocket), while `run` drives traffic. Self time is
 * attributed to the module of the bundle each sampled function sits in: esbuild writes a
 * `// node_modules/<package>/…` or `// src/…` comment at the start of every module it bundles.
 */
import { readFileSync } from 'node:fs';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type ProfileSummary = {
  totalMs: number;
  byModule: { module: string; ms: number }[];
  byFunction: { fn: string; module: string; ms: number }[];
};

async function targetUrl(inspectorPort: number, worker: string): Promise<string> {
  const list = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    id: string;
    title: string;
    webSocketDebuggerUrl: string;
  }[];
  const hit = list.find((t) => t.id.endsWith(worker) || t.title.includes(worker)) ?? list[0];
  if (!hit) throw new Error(`no inspector target on ${inspectorPort}`);
  return hit.webSocketDebuggerUrl;
}

/** Module name per line of the bundle: the last esbuild module comment above it. */
function moduleOfLine(bundle: string): (line: number) => string {
  const lines = bundle.split('\n');
  const names: string[] = new Array(lines.length);
  let current = '(wrangler shim)';
  for (let i = 0; i < lines.length; i++) {
    const m = /^\/\/ (node_modules\/(?:@[^/]+\/)?[^/]+|src\/\S+|\.\.\/\S+)/.exec(lines[i] ?? '');
    if (m?.[1]) current = m[1].replace(/^node_modules\//, '');
    names[i] = current;
  }
  return (line) => names[line] ?? '(unknown)';
}

export async function profileWorker(
  options: { inspectorPort: number; worker: string; bundlePath: string },
  run: () => Promise<void>,
): Promise<ProfileSummary> {
  const ws = new WebSocket(await targetUrl(options.inspectorPort, options.worker));
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: any) => void>();
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(String(event.data));
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)?.(msg.result);
      pending.delete(msg.id);
    }
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 100 });
  await call('Profiler.start');
  await run();
  const { profile } = (await call('Profiler.stop')) as { profile: Profile };
  ws.close();

  const moduleOf = moduleOfLine(readFileSync(options.bundlePath, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const modules = new Map<string, number>();
  const fns = new Map<string, { fn: string; module: string; ms: number }>();
  let totalMs = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    // (idle) is the isolate waiting: not CPU.
    if (functionName === '(idle)') continue;
    const ms = us / 1000;
    totalMs += ms;
    const module = url.endsWith('index.js')
      ? moduleOf(lineNumber)
      : functionName.startsWith('(')
        ? functionName
        : url || '(native)';
    modules.set(module, (modules.get(module) ?? 0) + ms);
    const key = `${functionName || '(anonymous)'} @ ${module}:${lineNumber}`;
    const f = fns.get(key) ?? { fn: functionName || '(anonymous)', module, ms: 0 };
    f.ms += ms;
    fns.set(key, f);
  }
  return {
    totalMs,
    byModule: [...modules].map(([module, ms]) => ({ module, ms })).sort((a, b) => b.ms - a.ms),
    byFunction: [...fns.values()].sort((a, b) => b.ms - a.ms).slice(0, 25),
  };
}
