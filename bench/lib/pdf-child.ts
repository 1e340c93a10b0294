/**
 * PDF text extraction timed in a fresh Node process, so its peak memory (maxRSS) is its own.
 * argv[2] is a JSON job: which extractor ("ours": src/attachments/extract.ts extractAttachments,
 * base64 in as the API receives it; "pdfjs": pdfjs-dist getDocument + getTextContent per page),
 * the files that must yield text (timed: one warm-up pass, then `repeats` passes) and the files
 * expected to fail (run once each). Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import './resolve-src.ts';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Job = {
  extractor: 'ours' | 'pdfjs';
  dir: string;
  textFiles: string[];
  failFiles: { file: string; password?: string }[];
  repeats: number;
};
type Extracted = { pages: number; chars: number };
type Extract = (bytes: Buffer, password?: string) => Promise<Extracted>;

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const root = join(import.meta.dirname, '..', '..');

/** Our attachment path, with limits raised so that every page of every file is read. */
async function ours(): Promise<Extract> {
  type Input = { filename: string; mimeType: string; data: string; password?: string };
  type Output = { pageCount: number | null; charCount: number };
  const url = pathToFileURL(join(root, 'src', 'attachments', 'extract.ts')).href;
  const mod = (await import(url)) as { extractAttachments: (inputs: Input[], limits: unknown) => Promise<Output[]> };
  const config = (await import(pathToFileURL(join(root, 'src', 'config.ts')).href)) as {
    loadConfig: (env: Record<string, string>) => { attachments: unknown };
  };
  const limits = config.loadConfig({ PDF_MAX_PAGES: '100000', ATTACHMENT_MAX_CHARS: '100000000' }).attachments;
  return async (bytes, password) => {
    const input: Input = { filename: 'file.pdf', mimeType: 'application/pdf', data: bytes.toString('base64') };
    if (password !== undefined) input.password = password;
    const [out] = await mod.extractAttachments([input], limits);
    return { pages: out?.pageCount ?? 0, chars: out?.charCount ?? 0 };
  };
}

/** pdfjs-dist directly, as its documentation shows for Node (legacy build, CMaps and fonts given). */
async function pdfjs(): Promise<Extract> {
  const lib = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const dist = join(root, 'node_modules', 'pdfjs-dist');
  return async (bytes, password) => {
    const task = lib.getDocument({
      data: new Uint8Array(bytes),
      verbosity: 0,
      useSystemFonts: true,
      disableFontFace: true,
      cMapUrl: join(dist, 'cmaps/'),
      cMapPacked: true,
      standardFontDataUrl: join(dist, 'standard_fonts/'),
      ...(password !== undefined ? { password } : {}),
    });
    try {
      const doc = await task.promise;
      let chars = 0;
      for (let p = 1; p <= doc.numPages; p++) {
        const page = await doc.getPage(p);
        const content = await page.getTextContent();
        for (const item of content.items) if ('str' in item) chars += item.str.length;
        page.cleanup();
      }
      return { pages: doc.numPages, chars };
    } finally {
      await task.destroy();
    }
  };
}

function describe(error: unknown): string {
  const e = error as { name?: string; code?: unknown; appCode?: string; message?: string };
  const kind = e.appCode ?? e.name ?? 'Error';
  return `${kind}${e.code !== undefined && typeof e.code !== 'string' ? ` (code ${e.code})` : ''}: ${String(e.message).slice(0, 120)}`;
}

const rssBeforeKb = Math.round(process.memoryUsage().rss / 1024);
const importStart = performance.now();
const extract = job.extractor === 'ours' ? await ours() : await pdfjs();
const load = (file: string) => readFileSync(join(job.dir, file));
const firstFile = job.textFiles[0];
const firstStart = performance.now();
if (firstFile) await extract(load(firstFile));
const firstCallMs = performance.now() - firstStart;
const importMs = firstStart - importStart;
const rssReadyKb = Math.round(process.memoryUsage().rss / 1024);

const files = job.textFiles.map((file) => ({ file, bytes: load(file), ms: [] as number[], pages: 0, chars: 0 }));
for (let pass = 0; pass <= job.repeats; pass++) {
  for (const f of files) {
    const started = performance.now();
    const out = await extract(f.bytes);
    if (pass > 0) f.ms.push(performance.now() - started);
    f.pages = out.pages;
    f.chars = out.chars;
  }
}
const failures = [];
for (const { file, password } of job.failFiles) {
  const started = performance.now();
  let outcome: string;
  try {
    const out = await extract(load(file), password);
    outcome = `ok: ${out.pages} page(s), ${out.chars} chars`;
  } catch (error) {
    outcome = describe(error);
  }
  failures.push({ file, password: password !== undefined, ms: performance.now() - started, outcome });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
console.log(
  JSON.stringify({
    extractor: job.extractor,
    importMs,
    firstCallMs,
    rssBeforeKb,
    rssReadyKb,
    maxRssKb: process.resourceUsage().maxRSS,
    files: files.map((f) => ({
      file: f.file,
      bytes: f.bytes.length,
      pages: f.pages,
      chars: f.chars,
      ms: median(f.ms),
    })),
    failures,
  }),
);
