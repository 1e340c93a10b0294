/**
 * Peak memory of one send's attachment work, in a fresh Node process (so maxRSS is this case's):
 * the request body as JSON text (as it arrives), JSON.parse, then extractAttachments with the
 * default limits — the same code the Worker runs. argv[2] names the case. Prints one JSON line.
 * Run with --js-base-64 (Uint8Array.fromBase64, which workerd has and Node 24 keeps behind a flag).
 */
import './resolve-src.ts';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Input = { filename: string; mimeType: string; data: string };
type Output = { charCount: number; truncated: boolean; pageCount: number | null };

const root = join(import.meta.dirname, '..', '..');
const name = process.argv[2] ?? '';
const extract = (await import(pathToFileURL(join(root, 'src', 'attachments', 'extract.ts')).href)) as {
  extractAttachments: (inputs: Input[], limits: unknown) => Promise<Output[]>;
};
const { DEFAULT_CONFIG } = (await import(pathToFileURL(join(root, 'src', 'config.ts')).href)) as {
  DEFAULT_CONFIG: { attachments: unknown };
};
const hostile = await import(pathToFileURL(join(root, 'test', 'helpers', 'hostile-pdf.ts')).href);
const MiB = 1024 * 1024;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** A PDF of `size` bytes: one page of text and an image stream (pdf.js never decodes it for text). */
function bigPdf(size: number, label: string): Uint8Array {
  const image = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) image[i] = (i * 31) & 0xff;
  return hostile.buildPdf([
    { dict: '/Type /Catalog /Pages 2 0 R' },
    { dict: '/Type /Pages /Kids [3 0 R] /Count 1' },
    {
      dict: '/Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> /XObject << /Im0 6 0 R >> >> /Contents 5 0 R',
    },
    { dict: '/Type /Font /Subtype /Type1 /BaseFont /Helvetica' },
    {
      dict: '',
      stream: new TextEncoder().encode(`BT /F1 12 Tf 72 720 Td (${label}) Tj ET q 100 0 0 100 0 0 cm /Im0 Do Q`),
    },
    {
      dict: '/Type /XObject /Subtype /Image /Width 2048 /Height 2048 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode',
      stream: image,
    },
  ]);
}

const text = (size: number) =>
  new TextEncoder().encode('All work and no play. '.repeat(Math.ceil(size / 22)).slice(0, size));

const cases: Record<string, () => Promise<Input[]>> = {
  'one 10 MiB PDF (the default limit)': async () => [
    { filename: 'a.pdf', mimeType: 'application/pdf', data: b64(bigPdf(10 * MiB - 4096, 'a')) },
  ],
  'two 5 MiB PDFs': async () =>
    ['a', 'b'].map((l) => ({
      filename: `${l}.pdf`,
      mimeType: 'application/pdf',
      data: b64(bigPdf(5 * MiB - 4096, l)),
    })),
  'one 10 MiB text file': async () => [{ filename: 'a.txt', mimeType: 'text/plain', data: b64(text(10 * MiB - 16)) }],
  'five 2 MiB HTML files': async () =>
    ['a', 'b', 'c', 'd', 'e'].map((l) => ({
      filename: `${l}.html`,
      mimeType: 'text/html',
      data: b64(
        new TextEncoder().encode(`<p>${l}</p>${'<div>x &amp; y</div>'.repeat(Math.floor((2 * MiB - 16) / 20))}`),
      ),
    })),
  'hostile: nested forms, depth 5, fan-out 10': async () => [
    {
      filename: 'forms.pdf',
      mimeType: 'application/pdf',
      data: b64(hostile.nestedFormsPdf({ depth: 5, fanOut: 10, leafOperators: 20 })),
    },
  ],
  'hostile: Flate bomb, 256 MiB in one stream': async () => [
    { filename: 'bomb.pdf', mimeType: 'application/pdf', data: b64(await hostile.flateBombPdf(256 * MiB)) },
  ],
  'hostile: one page of Flate streams just under the caps (3 × 7.9 MiB)': async () => {
    const stream = await hostile.deflateRepeated('q Q ', 8 * MiB - 64 * 1024);
    const objects = [
      { dict: '/Type /Catalog /Pages 2 0 R' },
      { dict: '/Type /Pages /Kids [3 0 R] /Count 1' },
      { dict: '/Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [4 0 R 5 0 R 6 0 R]' },
      ...[0, 1, 2].map(() => ({ dict: '/Filter /FlateDecode', stream })),
    ];
    return [{ filename: 'streams.pdf', mimeType: 'application/pdf', data: b64(hostile.buildPdf(objects)) }];
  },
  'hostile: huge content stream (3.9 M operators)': async () => [
    { filename: 'huge.pdf', mimeType: 'application/pdf', data: b64(await hostile.hugeContentPdf(3_900_000)) },
  ],
  'hostile: 10 MiB of unclosed HTML comments': async () => [
    {
      filename: 'c.html',
      mimeType: 'text/html',
      data: b64(new TextEncoder().encode('<!--'.repeat((10 * MiB - 16) / 4))),
    },
  ],
};

const make = cases[name];
if (!make) throw new Error(`unknown case ${name}; cases: ${Object.keys(cases).join(', ')}`);
// Warm up: load pdf.js and read a small PDF, as an isolate that has seen a PDF has.
await extract.extractAttachments(
  [{ filename: 'w.pdf', mimeType: 'application/pdf', data: b64(hostile.textPdf('warm')) }],
  DEFAULT_CONFIG.attachments,
);
const heap = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
globalThis.gc?.();
const warmHeap = heap();
// The body as it arrives: JSON text holding the base64 attachments.
const body = JSON.stringify({ json: { attachments: await make() } });
globalThis.gc?.();
const rssBeforeKb = Math.round(process.memoryUsage().rss / 1024);
const maxBeforeKb = process.resourceUsage().maxRSS;
let peakHeap = heap();
// Samples whenever the event loop gets a turn (the PDF budget and the stream scan yield).
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, heap());
}, 1);
const started = performance.now();
let outcome: string;
try {
  const parsed = JSON.parse(body) as { json: { attachments: Input[] } };
  peakHeap = Math.max(peakHeap, heap());
  const out = await extract.extractAttachments(parsed.json.attachments, DEFAULT_CONFIG.attachments);
  peakHeap = Math.max(peakHeap, heap());
  outcome = `accepted: ${out.map((o) => `${o.charCount} chars${o.truncated ? ', truncated' : ''}`).join('; ')}`;
} catch (error) {
  const e = error as { appCode?: string; message?: string };
  outcome = `${e.appCode ?? 'Error'}: ${String(e.message).slice(0, 160)}`;
}
clearInterval(sampler);
const ms = performance.now() - started;
const maxRssKb = process.resourceUsage().maxRSS;
console.log(
  JSON.stringify({
    case: name,
    bodyBytes: body.length,
    ms,
    warmHeapKb: Math.round(warmHeap / 1024),
    peakHeapAboveWarmKb: Math.round((peakHeap - warmHeap) / 1024),
    rssBeforeKb,
    maxRssKb,
    rssPeakAboveBeforeKb: maxRssKb > maxBeforeKb ? maxRssKb - rssBeforeKb : null,
    outcome,
  }),
);
