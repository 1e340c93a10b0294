/**
 * PDF extraction on the fixtures (test/fixtures/pdfs), read in place: our attachment path and pdfjs-dist, each
 * in a fresh child process (so each peak RSS is its own), one after the other.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnGroup } from './proc.ts';

export const fixturesDir =
  process.env.PDF_FIXTURES_DIR ?? join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'pdfs');

/** The folder as results.json records it: relative to the project, so results name no machine's paths. */
const shownDir = relative(join(import.meta.dirname, '..', '..'), fixturesDir) || '.';

type ManifestEntry = { file: string; expect: string; password?: string };

export type PdfRun = {
  extractor: 'ours' | 'pdfjs';
  importMs: number;
  firstCallMs: number;
  rssBeforeKb: number;
  rssReadyKb: number;
  maxRssKb: number;
  files: { file: string; bytes: number; pages: number; chars: number; ms: number }[];
  failures: { file: string; password: boolean; ms: number; outcome: string }[];
};

async function runChild(job: Record<string, unknown>): Promise<PdfRun> {
  // --js-base-64: Uint8Array.fromBase64, which workerd has and src/attachments/base64.ts uses.
  const run = spawnGroup(`pdf ${job.extractor}`, process.execPath, [
    '--js-base-64',
    join(import.meta.dirname, 'pdf-child.ts'),
    JSON.stringify(job),
  ]);
  const killer = setTimeout(() => void run.stop(), 180_000);
  const code = await new Promise<number | null>((resolve) => run.proc.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  await run.stop();
  const line = run
    .output()
    .split('\n')
    .find((l) => l.startsWith('{"extractor"'));
  if (code !== 0 || !line)
    throw new Error(`PDF run ${job.extractor} failed (exit ${code}):\n${run.output().slice(-3000)}`);
  return JSON.parse(line) as PdfRun;
}

export async function measurePdf(
  repeats: number,
): Promise<{ dir: string; ours: PdfRun; pdfjs: PdfRun } | { dir: string; skipped: string }> {
  let manifest: ManifestEntry[];
  try {
    manifest = JSON.parse(readFileSync(join(fixturesDir, 'MANIFEST.json'), 'utf8')) as ManifestEntry[];
  } catch (error) {
    return { dir: shownDir, skipped: `cannot read ${shownDir}/MANIFEST.json: ${String(error)}` };
  }
  const textFiles = manifest.filter((e) => e.expect === 'text' || e.expect === 'no-text').map((e) => e.file);
  const failFiles = manifest.flatMap((e) => {
    if (e.expect === 'error') return [{ file: e.file }];
    if (e.expect === 'password')
      return [{ file: e.file }, ...(e.password ? [{ file: e.file, password: e.password }] : [])];
    return [];
  });
  const job = { dir: fixturesDir, textFiles, failFiles, repeats };
  const ours = await runChild({ ...job, extractor: 'ours' });
  const pdfjs = await runChild({ ...job, extractor: 'pdfjs' });
  return { dir: shownDir, ours, pdfjs };
}
