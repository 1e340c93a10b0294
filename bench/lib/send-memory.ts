/**
 * Peak memory per send (issue 13): each case of send-memory-child.ts in a fresh Node process, one
 * after the other, so each figure is its own. Node runs the Worker's own attachment code (same V8);
 * the figure that matters for the 128 MB isolate is the V8 heap plus external memory (ArrayBuffers)
 * above a warm isolate that has pdf.js loaded, with the request body counted.
 */
import { join } from 'node:path';
import { spawnGroup } from './proc.ts';

export const SEND_MEMORY_CASES = [
  'one 10 MiB PDF (the default limit)',
  'two 5 MiB PDFs',
  'one 10 MiB text file',
  'five 2 MiB HTML files',
  'hostile: nested forms, depth 5, fan-out 10',
  'hostile: Flate bomb, 256 MiB in one stream',
  'hostile: one page of Flate streams just under the caps (3 × 7.9 MiB)',
  'hostile: huge content stream (3.9 M operators)',
  'hostile: 10 MiB of unclosed HTML comments',
];

export type SendMemoryRow = {
  case: string;
  bodyBytes: number;
  ms: number;
  warmHeapKb: number;
  peakHeapAboveWarmKb: number;
  rssBeforeKb: number;
  maxRssKb: number;
  rssPeakAboveBeforeKb: number | null;
  outcome: string;
};

export async function measureSendMemory(cases = SEND_MEMORY_CASES): Promise<SendMemoryRow[]> {
  const rows: SendMemoryRow[] = [];
  for (const name of cases) {
    // A 128 MB old space, as a Worker isolate has: a send that does not fit dies here.
    const run = spawnGroup(`send memory: ${name}`, process.execPath, [
      '--js-base-64',
      '--expose-gc',
      '--max-old-space-size=128',
      join(import.meta.dirname, 'send-memory-child.ts'),
      name,
    ]);
    const killer = setTimeout(() => void run.stop(), 120_000);
    const code = await new Promise<number | null>((resolve) => run.proc.once('exit', (c) => resolve(c)));
    clearTimeout(killer);
    await run.stop();
    const line = run
      .output()
      .split('\n')
      .find((l) => l.startsWith('{"case"'));
    if (code !== 0 || !line)
      throw new Error(`send memory "${name}" failed (exit ${code}):\n${run.output().slice(-3000)}`);
    rows.push(JSON.parse(line) as SendMemoryRow);
  }
  return rows;
}
