/**
 * Hostile documents (issue 13): every one is answered within a few seconds with a clear outcome —
 * refused (422, 413) with a reason, or accepted truncated — and the isolate keeps serving /health
 * while it is read. Fixtures are made by code (test/helpers/hostile-pdf.ts). Timing is not asserted
 * beyond generous margins; what is asserted is that the bound acted.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { extractAttachments } from '../src/attachments/extract';
import { decodeEntities, htmlToText } from '../src/attachments/html';
import { scanPdfStreams } from '../src/attachments/pdf-streams';
import { loadConfig } from '../src/config';
import type { Env } from '../src/env';
import { type ApiResponse, createTenant, mutate, request, type Tenant } from './helpers/api';
import { officeEntries, officeZip, repeated, zipOf } from './helpers/docx-zip';
import { conversation as newConversation } from './helpers/factories';
import {
  buildPdf,
  deflateRepeated,
  flateBombPdf,
  hugeContentPdf,
  nestedFormsPdf,
  textPdf,
  textThenFormsPdf,
  toBase64,
} from './helpers/hostile-pdf';

type Attachment = { filename: string; mimeType: string; data: string };

async function conversation(): Promise<{ tenant: Tenant; sessionId: string }> {
  const tenant = await createTenant('Hostile documents org');
  const { session } = await newConversation(tenant, { name: 'Reader', instructions: 'You read documents.' });
  return { tenant, sessionId: session.id };
}

type Probe = { answered: number; failed: number; maxMs: number; answeredDuring: boolean };

/**
 * Runs `work` while calling /health back to back; reports how many /health calls were answered
 * before `work` finished (an isolate stalled by `work` answers none until it ends).
 */
async function withHealthProbe<T>(work: () => Promise<T>): Promise<{ result: T; probe: Probe; ms: number }> {
  const started = performance.now();
  let done = false;
  const probe: Probe = { answered: 0, failed: 0, maxMs: 0, answeredDuring: false };
  const running = work().finally(() => {
    done = true;
  });
  const probing = (async () => {
    while (!done) {
      const t = performance.now();
      const res = await request('/health');
      await res.body;
      const ms = performance.now() - t;
      if (res.status === 200) {
        probe.answered++;
        probe.maxMs = Math.max(probe.maxMs, ms);
        if (!done) probe.answeredDuring = true;
      } else probe.failed++;
    }
  })();
  const result = await running;
  await probing;
  return { result, probe, ms: performance.now() - started };
}

function send(tenant: Tenant, sessionId: string, attachment: Attachment): Promise<ApiResponse> {
  return mutate(
    'chat.sendMessage',
    { chatSessionId: sessionId, content: `Read ${attachment.filename}`, role: 'USER', attachments: [attachment] },
    { tenant },
  );
}

const pdf = (filename: string, bytes: Uint8Array): Attachment => ({
  filename,
  mimeType: 'application/pdf',
  data: toBase64(bytes),
});

const message = (res: ApiResponse) => String((res.body as { error?: { message?: string } })?.error?.message ?? '');

function report(label: string, ms: number, probe: Probe, outcome: string) {
  console.log(
    `${label}: ${outcome} in ${ms.toFixed(0)} ms; /health answered ${probe.answered}× meanwhile, slowest ${probe.maxMs.toFixed(0)} ms`,
  );
}

describe('hostile PDFs through chat.sendMessage', () => {
  it('refuses nested Form XObjects that fan out (depths 4–6) with 422, reads a shallow one, and /health answers meanwhile', async () => {
    const { tenant, sessionId } = await conversation();
    // Depth 2: 100 leaves, read in full.
    const shallow = await send(tenant, sessionId, pdf('forms-2.pdf', nestedFormsPdf({ depth: 2, fanOut: 10 })));
    expect(shallow.status).toBe(200);
    for (const depth of [4, 5, 6]) {
      const file = nestedFormsPdf({ depth, fanOut: 10, leafOperators: 20 });
      expect(file.length).toBeLessThan(4096);
      const { result, probe, ms } = await withHealthProbe(() =>
        send(tenant, sessionId, pdf(`forms-${depth}.pdf`, file)),
      );
      report(`nested forms depth ${depth}`, ms, probe, `${result.status} ${message(result)}`);
      expect(result.status).toBe(422);
      expect(message(result)).toMatch(
        /forms-\d\.pdf.*refused.*first page (needs more than \d+ drawing operations|took longer)/,
      );
      expect(probe.answeredDuring).toBe(true);
      expect(probe.failed).toBe(0);
    }
  });

  it('refuses a Flate bomb before pdf.js inflates it, with /health answered meanwhile', async () => {
    const { tenant, sessionId } = await conversation();
    const bomb = await flateBombPdf(256 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(400 * 1024);
    const { result, probe, ms } = await withHealthProbe(() => send(tenant, sessionId, pdf('bomb.pdf', bomb)));
    report('Flate bomb 256 MiB', ms, probe, `${result.status} ${message(result)}`);
    expect(result.status).toBe(422);
    expect(message(result)).toMatch(/bomb\.pdf.*refused.*decompresses to more than 8 MiB/);
    expect(probe.answeredDuring).toBe(true);
  });

  it('refuses a huge content stream once its operators pass the budget, with /health answered meanwhile', async () => {
    const { tenant, sessionId } = await conversation();
    // 3.5 M operators in 7 MiB decoded (under the stream limit): only the operation budget can stop it.
    const huge = await hugeContentPdf(3_500_000);
    const { result, probe, ms } = await withHealthProbe(() => send(tenant, sessionId, pdf('huge.pdf', huge)));
    report('huge content stream', ms, probe, `${result.status} ${message(result)}`);
    expect(result.status).toBe(422);
    expect(message(result)).toMatch(
      /huge\.pdf.*refused.*first page (needs more than \d+ drawing operations|took longer)/,
    );
    expect(probe.answeredDuring).toBe(true);
  });
});

describe('PDF budgets (extractAttachments with settings changed)', () => {
  const read = (bytes: Uint8Array, overrides: Partial<Env>) =>
    extractAttachments([pdf('file.pdf', bytes)], loadConfig({ ...(env as unknown as Env), ...overrides }).attachments);

  it('reads an ordinary PDF under the default budgets', async () => {
    const [out] = await read(textPdf('Quarterly report: revenue grew.'), {});
    expect(out?.text).toBe('Quarterly report: revenue grew.');
    expect(out?.truncated).toBe(false);
  });

  it('refuses on time when the operation budget is out of reach (PDF_MAX_MS)', async () => {
    const file = nestedFormsPdf({ depth: 5, fanOut: 10 });
    await expect(read(file, { PDF_MAX_MS: '200', PDF_MAX_OPERATIONS: '1000000000' })).rejects.toMatchObject({
      appCode: 'UNPROCESSABLE',
      message: expect.stringMatching(/first page took longer than 200 ms/),
    });
  });

  it('keeps the pages read when the budget runs out after the first page: accepted, truncated', async () => {
    const file = textThenFormsPdf({ textPages: 3, depth: 6, fanOut: 10 });
    const [out] = await read(file, {});
    expect(out).toMatchObject({ pageCount: 4, truncated: true, hasText: true });
    expect(out?.text).toMatch(/^Page 1\nPage 2\nPage 3\n/);
    // Without the budget the forms page would hold a million x's; the budget stopped it early.
    expect(out?.text.length).toBeLessThan(100_000);
  });

  it('accepts a form fan-out truncated when its text passes ATTACHMENT_MAX_CHARS first', async () => {
    const [out] = await read(nestedFormsPdf({ depth: 4, fanOut: 10 }), { ATTACHMENT_MAX_CHARS: '500' });
    expect(out?.truncated).toBe(true);
    expect(out?.text.length).toBe(500);
    expect(out?.text).toMatch(/^x+$/);
  });

  it('refuses streams whose total decoded size passes PDF_MAX_DECODED_BYTES', async () => {
    const file = await flateBombPdf(3 * 1024 * 1024, 'q Q ');
    await expect(read(file, { PDF_MAX_DECODED_BYTES: String(2 * 1024 * 1024) })).rejects.toMatchObject({
      appCode: 'UNPROCESSABLE',
      message: expect.stringMatching(/streams decompress to more than 2 MiB in total/),
    });
    // The same file within the limits is read.
    const [out] = await read(file, {});
    expect(out?.hasText).toBe(false);
  });
});

describe('HTML to text in linear time', () => {
  it('keeps text, drops tags, comments, scripts and styles, decodes entities', async () => {
    const html =
      '<!doctype html><html><head><title>T&amp;C</title><style>p{color:red}</style><script>var a = "<p>";</script></head>' +
      '<body><h1>Terms</h1><p>Fish &amp; chips &lt;3 &#8364;5 &#x1F600; &nbsp;now<br>next</p><!-- hidden --><ul><li>one</li><li>two</li></ul></body></html>';
    expect(htmlToText(html)).toBe('T&C\n\nTerms\n\nFish & chips <3 €5 😀 now\nnext\n\none\n\ntwo');
  });

  it('decodes entities split across parser chunks and leaves unknown ones alone', () => {
    expect(decodeEntities('&amp;&bogus;&#0;&#x110000;&lt')).toBe('&&bogus;&#0;&#x110000;&lt');
  });

  it('answers unclosed comments, tags and scripts of several MiB quickly, with /health answered meanwhile', async () => {
    const { tenant, sessionId } = await conversation();
    const size = 3 * 1024 * 1024;
    const before = '<p>before</p>';
    // [file, html, the start of the text it must yield]
    const cases: [string, string, RegExp][] = [
      ['comments.html', `${before}${'<!--'.repeat(size / 4)}`, /^before$/],
      ['script.html', `${before}<script>${'x<'.repeat(size / 2)}`, /^before$/],
      ['entities.html', `${before}${'&#x'.repeat(size / 3)}`, /^before\n&#x&#x/],
      [
        'data-uri.html',
        `${before}<img src="data:image/png;base64,${'A'.repeat(size)}"><p>after</p>`,
        /^before\n\nafter$/,
      ],
      ['tags.html', `${before}${'<a '.repeat(size / 3)}`, /^before$/],
      ['quotes.html', `${before}<a title="${'x'.repeat(size)}`, /^before$/],
      ['less-than.html', `${before}${'a < b '.repeat(size / 6)}`, /^before\na < b a < b/],
    ];
    for (const [filename, html, expected] of cases) {
      const attachment = { filename, mimeType: 'text/html', data: btoa(html) };
      const { result, probe, ms } = await withHealthProbe(() => send(tenant, sessionId, attachment));
      report(filename, ms, probe, `${result.status} ${message(result)}`);
      expect(result.status, message(result)).toBe(200);
      expect(probe.answered).toBeGreaterThan(0);
      const [stored] = await extractAttachments([attachment], loadConfig(env).attachments);
      expect(stored?.text.slice(0, 40)).toMatch(expected);
    }
  });
});

describe('PDF stream measurement (every filter the scan decodes)', () => {
  const limits = { maxStreamBytes: 8 * 1024 * 1024, maxTotalBytes: 24 * 1024 * 1024 };
  const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const oneStream = (filter: string, data: Uint8Array) =>
    buildPdf([{ dict: '/Type /Catalog' }, { dict: `/Filter ${filter}`, stream: data }]);

  it('counts LZW (the PDF reference example), RunLength, ASCIIHex and ASCII85 output exactly', async () => {
    // PDF 1.7 reference, 7.4.4.2: 45 45 45 45 45 65 45 45 45 66 encodes to these nine bytes.
    const lzw = Uint8Array.from([0x80, 0x0b, 0x60, 0x50, 0x22, 0x0c, 0x0c, 0x85, 0x01]);
    expect(await scanPdfStreams(oneStream('/LZWDecode', lzw), limits)).toMatchObject({ ok: true, decodedBytes: 10 });
    // RunLength: 257-129 = 128 copies of one byte, then 3 literal bytes, then end of data.
    const rl = Uint8Array.from([129, 0x20, 2, 0x61, 0x62, 0x63, 128]);
    expect(await scanPdfStreams(oneStream('/RunLengthDecode', rl), limits)).toMatchObject({ decodedBytes: 131 });
    expect(await scanPdfStreams(oneStream('/ASCIIHexDecode', latin1('48 65 6C6C 6F>')), limits)).toMatchObject({
      decodedBytes: 5,
    });
    // "Man " is "9jqo^" in ASCII85; "z" is four zero bytes.
    expect(await scanPdfStreams(oneStream('/ASCII85Decode', latin1('9jqo^z~>')), limits)).toMatchObject({
      decodedBytes: 8,
    });
  });

  it('refuses bombs behind filter chains and in LZW and RunLength streams', async () => {
    const small = { maxStreamBytes: 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024 };
    const zlib = await deflateRepeated(' ', 8 * 1024 * 1024);
    const hex = latin1(`${Array.from(zlib, (b) => b.toString(16).padStart(2, '0')).join('')}>`);
    const chained = await scanPdfStreams(oneStream('[/ASCIIHexDecode /FlateDecode]', hex), small);
    expect(chained).toMatchObject({ ok: false, reason: expect.stringMatching(/more than 1 MiB/) });
    // RunLength at its best ratio: 2 bytes → 128.
    const rl = new Uint8Array(40_000).map((_, i) => (i % 2 === 0 ? 129 : 0x20));
    expect(await scanPdfStreams(oneStream('/RL', rl), small)).toMatchObject({ ok: false });
    // LZW: a clear code then the same 9-bit code over and over (each new entry one byte longer).
    const codes = [256, 65, ...Array.from({ length: 250 }, (_, i) => 258 + i)];
    const bits = codes.map((c) => c.toString(2).padStart(9, '0')).join('');
    const lzw = Uint8Array.from(bits.match(/.{1,8}/g) ?? [], (b) => Number.parseInt(b.padEnd(8, '0'), 2));
    const lzwScan = await scanPdfStreams(oneStream('/LZWDecode', lzw), {
      maxStreamBytes: 10_000,
      maxTotalBytes: 10_000,
    });
    expect(lzwScan).toMatchObject({ ok: false });
    expect((await scanPdfStreams(oneStream('/LZWDecode', lzw), limits)).decodedBytes).toBe(1 + ((2 + 251) * 250) / 2);
  });

  it('counts a Flate stream with a wrong checksum or trailing junk in full, as pdf.js reads it', async () => {
    const zlib = await deflateRepeated('q Q ', 2 * 1024 * 1024);
    const broken = zlib.slice();
    broken[broken.length - 1] = (broken[broken.length - 1] ?? 0) ^ 0xff;
    const junk = new Uint8Array(zlib.length + 3);
    junk.set(zlib);
    for (const data of [broken, junk]) {
      expect(await scanPdfStreams(oneStream('/FlateDecode', data), limits)).toMatchObject({
        ok: true,
        decodedBytes: 2 * 1024 * 1024,
      });
    }
  });
});

describe('Excel and PowerPoint archives (extractAttachments, default limits)', () => {
  const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
  const read = (filename: string, mimeType: string, bytes: Uint8Array) =>
    extractAttachments([{ filename, mimeType, data: toBase64(bytes) }], loadConfig(env as unknown as Env).attachments);
  // The attachment limits keep 300,000 characters (ATTACHMENT_MAX_INDEXED_CHARS): 16 bytes of XML each.
  const bound = 'expands to more than 4800000 bytes';
  const refused = (what: RegExp | string) => ({
    appCode: 'UNPROCESSABLE',
    message: typeof what === 'string' ? expect.stringContaining(what) : expect.stringMatching(what),
  });

  it('refuses a workbook and a presentation that are ZIP bombs, one part or many, at one shared bound', async () => {
    // 64 MiB of cells (or paragraphs) deflates to well under 1 MiB; the archive claims 1 KiB.
    const cells = repeated(
      '<worksheet><sheetData><row>',
      '<c t="b"><v>1</v></c>',
      64 * 1024 * 1024,
      '</row></sheetData></worksheet>',
    );
    const sheetBomb = await officeZip('xlsx', [cells], true);
    expect(sheetBomb.length).toBeLessThan(1024 * 1024);
    await expect(read('bomb.xlsx', XLSX, sheetBomb)).rejects.toMatchObject(refused(bound));
    const paragraphs = repeated('<p:sld>', '<a:p><a:r><a:t>boom</a:t></a:r></a:p>', 64 * 1024 * 1024, '</p:sld>');
    await expect(read('bomb.pptx', PPTX, await officeZip('pptx', [paragraphs], true))).rejects.toMatchObject(
      refused(bound),
    );
    // Ten slides of 1 MiB of XML with one word each (the text stays short, so reading goes on):
    // every one under the bound, together over it.
    const slide = repeated(
      '<p:sld>',
      '<a:p><a:r><a:rPr lang="en"/></a:r></a:p>',
      1024 * 1024,
      '<a:p><a:t>boom</a:t></a:p></p:sld>',
    );
    const many = await officeZip(
      'pptx',
      Array.from({ length: 10 }, () => slide),
      true,
    );
    await expect(read('many.pptx', PPTX, many)).rejects.toMatchObject(refused(bound));
    // Two of them are read.
    const [two] = await read('two.pptx', PPTX, await officeZip('pptx', [slide, slide], true));
    expect(two).toMatchObject({ text: '# Slide 1\nboom\n# Slide 2\nboom', truncated: false });
  });

  it('refuses an archive of 100,000 entries from its directory, before reading any', async () => {
    const entries = Array.from({ length: 100_000 }, (_, i) => ({ name: `x${i}`, data: new Uint8Array(1) }));
    const started = performance.now();
    await expect(read('entries.xlsx', XLSX, await zipOf(entries, false))).rejects.toMatchObject(
      refused('it has more than 10000 parts'),
    );
    // One that states a small count but has more is read up to that count only.
    const lying = await zipOf(
      [
        ...officeEntries('xlsx', [
          new TextEncoder().encode('<worksheet><sheetData><row><c t="b"><v>1</v></c></row></sheetData></worksheet>'),
        ]),
        ...entries.slice(0, 20_000),
      ],
      false,
      3,
    );
    const [out] = await read('lying.xlsx', XLSX, lying);
    expect(out?.text).toBe('# S1\nTRUE');
    console.log(`100,000-entry archives answered in ${(performance.now() - started).toFixed(0)} ms`);
  });

  it('reads a sheet of 250,000 tiny cells within the budget (truncated), and refuses 1,000,000', async () => {
    const row = `<row>${'<c><v>7</v></c>'.repeat(100)}</row>`;
    const sheet = (rows: number) =>
      repeated('<worksheet><sheetData>', row, rows * row.length, '</sheetData></worksheet>');
    const started = performance.now();
    const [out] = await read('cells.xlsx', XLSX, await officeZip('xlsx', [sheet(2_500)], true));
    expect(out?.truncated).toBe(true);
    // Cells stop being kept past the 300,000 characters an attachment keeps: 150,001 cells of "7",
    // 1,500 full rows of 100 and one of 1.
    expect(out?.charCount).toBe('# S1\n'.length + 1_500 * (100 * 2) + 1);
    expect(out?.text.slice(0, 30)).toBe(`# S1\n${'7\t'.repeat(12)}7`);
    await expect(read('cells.xlsx', XLSX, await officeZip('xlsx', [sheet(10_000)], true))).rejects.toMatchObject(
      refused(bound),
    );
    console.log(`250,000 and 1,000,000 cells answered in ${(performance.now() - started).toFixed(0)} ms`);
  });

  it('keeps no more text than it may when every cell repeats one long shared string', async () => {
    // 2 MiB of XML (under the inflate bound) that would expand to 100,000 × 60,000 characters.
    const long = 'x'.repeat(60_000);
    const sheet = repeated(
      '<worksheet><sheetData><row>',
      '<c t="s"><v>0</v></c>',
      2 * 1024 * 1024,
      '</row></sheetData></worksheet>',
    );
    const strings = new TextEncoder().encode(`<sst><si><t>${long}</t></si></sst>`);
    const file = await zipOf(
      [...officeEntries('xlsx', [sheet]), { name: 'xl/sharedStrings.xml', data: strings }],
      true,
    );
    const [out] = await read('shared.xlsx', XLSX, file);
    expect(out?.truncated).toBe(true);
    // Cells are kept until 300,000 characters (ATTACHMENT_MAX_INDEXED_CHARS) were: five of them.
    expect(out?.charCount).toBe('# S1\n'.length + 5 * 60_001 - 1);
    // The stored text is the first ATTACHMENT_MAX_CHARS (100,000) of that.
    expect(out?.text).toBe(`# S1\n${long}\t${long}`.slice(0, 100_000));
  });

  it('reads at most 200 sheets of a workbook that lists 300', async () => {
    const sheets = Array.from({ length: 300 }, (_, i) =>
      new TextEncoder().encode(
        `<worksheet><sheetData><row><c t="inlineStr"><is><t>cell ${i + 1}</t></is></c></row></sheetData></worksheet>`,
      ),
    );
    const [out] = await read('wide.xlsx', XLSX, await officeZip('xlsx', sheets, false));
    expect(out?.text).toContain('# S200\ncell 200');
    expect(out?.text).not.toContain('cell 201');
  });

  it('refuses a Word file declared as a workbook or a presentation, naming the missing part', async () => {
    const word = await zipOf(
      [{ name: 'word/document.xml', data: new TextEncoder().encode('<w:p><w:t>hi</w:t></w:p>') }],
      true,
    );
    await expect(read('word.xlsx', XLSX, word)).rejects.toMatchObject(refused('it has no xl/workbook.xml'));
    await expect(read('word.pptx', PPTX, word)).rejects.toMatchObject(refused('it has no ppt/presentation.xml'));
    await expect(read('text.pptx', PPTX, new TextEncoder().encode('not a zip'))).rejects.toMatchObject(
      refused('is not a readable PowerPoint presentation: it is not a ZIP archive'),
    );
  });
});
