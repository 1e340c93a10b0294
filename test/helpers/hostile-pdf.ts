/**
 * Hostile PDFs made by code, small on the wire and expensive to read: nested Form XObjects that fan
 * out, Flate bombs, oversized content streams. Every file is a valid PDF (xref table, one page).
 */

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** zlib (deflate) of `total` bytes made by repeating `pattern`, fed in 1 MiB pieces (flat memory). */
export async function deflateRepeated(pattern: string, total: number): Promise<Uint8Array> {
  const piece = latin1(pattern.repeat(Math.max(1, Math.floor((1024 * 1024) / pattern.length))));
  const stream = new CompressionStream('deflate');
  const writer = stream.writable.getWriter();
  const output = new Response(stream.readable).arrayBuffer();
  for (let written = 0; written < total; written += piece.length) {
    await writer.write(piece.subarray(0, Math.min(piece.length, total - written)));
  }
  await writer.close();
  return new Uint8Array(await output);
}

export async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new CompressionStream('deflate');
  const writer = stream.writable.getWriter();
  const output = new Response(stream.readable).arrayBuffer();
  await writer.write(bytes);
  await writer.close();
  return new Uint8Array(await output);
}

type PdfObject = { dict: string; stream?: Uint8Array };

/** A PDF of the given objects (object 1 is the catalog), with a correct xref table. */
export function buildPdf(objects: PdfObject[]): Uint8Array {
  const parts: Uint8Array[] = [latin1('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')];
  let length = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  const push = (bytes: Uint8Array) => {
    parts.push(bytes);
    length += bytes.length;
  };
  objects.forEach((object, i) => {
    offsets.push(length);
    if (object.stream) {
      push(latin1(`${i + 1} 0 obj\n<< ${object.dict} /Length ${object.stream.length} >>\nstream\n`));
      push(object.stream);
      push(latin1('\nendstream\nendobj\n'));
    } else {
      push(latin1(`${i + 1} 0 obj\n<< ${object.dict} >>\nendobj\n`));
    }
  });
  const xrefAt = length;
  const rows = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  push(latin1(`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${rows}`));
  push(latin1(`trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`));
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Objects 1–4: catalog, pages, the page (contents = object 5, resources given), a font. */
function page(resources: string): PdfObject[] {
  return [
    { dict: '/Type /Catalog /Pages 2 0 R' },
    { dict: '/Type /Pages /Kids [3 0 R] /Count 1' },
    { dict: `/Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << ${resources} >> /Contents 5 0 R` },
    { dict: '/Type /Font /Subtype /Type1 /BaseFont /Helvetica' },
  ];
}

/** A one-page PDF showing `text`. */
export function textPdf(text: string): Uint8Array {
  const content = latin1(`BT /F1 12 Tf 72 720 Td (${text.replace(/[()\\]/g, '\\$&')}) Tj ET`);
  return buildPdf([...page('/Font << /F1 4 0 R >>'), { dict: '', stream: content }]);
}

/**
 * One page whose content draws a Form XObject that draws `fanOut` copies of the next level's form,
 * `depth` levels deep: fanOut^depth leaves, each showing one character (so pdf.js cannot skip a
 * repeated form as empty) after `leafOperators` cheap operators. A couple of KB on the wire.
 */
export function nestedFormsPdf(options: { depth: number; fanOut: number; leafOperators?: number }): Uint8Array {
  const { depth, fanOut } = options;
  const objects = [...page('/Font << /F1 4 0 R >> /XObject << /X0 6 0 R >>'), { dict: '', stream: latin1('/X0 Do') }];
  // Objects 6 … 6+depth: level 0 is drawn by the page, level `depth` is the leaf.
  for (let level = 0; level <= depth; level++) {
    const self = 6 + level;
    const bbox = '/Type /XObject /Subtype /Form /BBox [0 0 612 792]';
    if (level === depth) {
      const filler = '1 0 0 1 0 0 cm\n'.repeat(options.leafOperators ?? 0);
      objects.push({
        dict: `${bbox} /Resources << /Font << /F1 4 0 R >> >>`,
        stream: latin1(`${filler}BT /F1 12 Tf 72 720 Td (x) Tj ET`),
      });
    } else {
      const names = Array.from({ length: fanOut }, (_, i) => `/X${i}`);
      objects.push({
        dict: `${bbox} /Resources << /Font << /F1 4 0 R >> /XObject << ${names.map((n) => `${n} ${self + 1} 0 R`).join(' ')} >> >>`,
        stream: latin1(names.map((n) => `${n} Do`).join('\n')),
      });
    }
  }
  return buildPdf(objects);
}

/** One page whose Flate content stream inflates to `decodedBytes` of `pattern` (spaces by default). */
export async function flateBombPdf(decodedBytes: number, pattern = ' '): Promise<Uint8Array> {
  const stream = await deflateRepeated(pattern, decodedBytes);
  return buildPdf([...page('/Font << /F1 4 0 R >>'), { dict: '/Filter /FlateDecode', stream }]);
}

/**
 * One page whose Flate content stream holds `operators` cheap path operators (`n`, end path; two
 * bytes each) around a line of text: a huge page with almost nothing to show.
 */
export async function hugeContentPdf(operators: number): Promise<Uint8Array> {
  const text = latin1('BT /F1 12 Tf 72 720 Td (huge page) Tj ET\n');
  const body = await deflateRepeated('n\n', operators * 2);
  // Two content streams (an array): the text first, then the operators.
  const objects = [...page('/Font << /F1 4 0 R >>')];
  objects[2] = {
    dict: '/Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents [5 0 R 6 0 R]',
  };
  objects.push({ dict: '', stream: text }, { dict: '/Filter /FlateDecode', stream: body });
  return buildPdf(objects);
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * `textPages` ordinary pages ("Page 1" …), then one page of nested forms as in nestedFormsPdf: a
 * document whose budget runs out after some pages were read.
 */
export function textThenFormsPdf(options: { textPages: number; depth: number; fanOut: number }): Uint8Array {
  const { textPages, depth, fanOut } = options;
  const pageCount = textPages + 1;
  // 1 catalog, 2 pages, 3 font, then (page, contents) pairs, then the form levels.
  const pageRef = (i: number) => 4 + 2 * i;
  const firstForm = 4 + 2 * pageCount;
  const objects: PdfObject[] = [
    { dict: '/Type /Catalog /Pages 2 0 R' },
    {
      dict: `/Type /Pages /Kids [${Array.from({ length: pageCount }, (_, i) => `${pageRef(i)} 0 R`).join(' ')}] /Count ${pageCount}`,
    },
    { dict: '/Type /Font /Subtype /Type1 /BaseFont /Helvetica' },
  ];
  for (let i = 0; i < pageCount; i++) {
    const forms = i === textPages;
    objects.push({
      dict: `/Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >>${forms ? ` /XObject << /X0 ${firstForm} 0 R >>` : ''} >> /Contents ${pageRef(i) + 1} 0 R`,
    });
    objects.push({ dict: '', stream: latin1(forms ? '/X0 Do' : `BT /F1 12 Tf 72 720 Td (Page ${i + 1}) Tj ET`) });
  }
  for (let level = 0; level <= depth; level++) {
    const self = firstForm + level;
    const bbox = '/Type /XObject /Subtype /Form /BBox [0 0 612 792]';
    if (level === depth) {
      objects.push({
        dict: `${bbox} /Resources << /Font << /F1 3 0 R >> >>`,
        stream: latin1('BT /F1 12 Tf 72 720 Td (x) Tj ET'),
      });
    } else {
      const names = Array.from({ length: fanOut }, (_, i) => `/X${i}`);
      objects.push({
        dict: `${bbox} /Resources << /XObject << ${names.map((n) => `${n} ${self + 1} 0 R`).join(' ')} >> >>`,
        stream: latin1(names.map((n) => `${n} Do`).join('\n')),
      });
    }
  }
  return buildPdf(objects);
}
