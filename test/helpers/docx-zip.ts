/** Hand-made Office archives for the bounded-reader tests (sources and message attachments). */

async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await new Response(new Blob([data]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer(),
  );
}

/**
 * A ZIP of `entries` (each stored or deflated). Every entry's declared uncompressed size is a lie, as
 * a zip bomb would tell it: 1 KiB. `declaredCount` overrides the entry count the archive states.
 */
export async function zipOf(
  entries: { name: string; data: Uint8Array }[],
  deflate: boolean,
  declaredCount = entries.length,
): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = deflate ? await deflateRaw(entry.data) : entry.data;
    const name = encoder.encode(entry.name);
    const local = new Uint8Array(30 + name.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, deflate ? 8 : 0, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, entry.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(data, 30 + name.length);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, deflate ? 8 : 0, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, 1024, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const centralLength = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, declaredCount & 0xffff, true);
  ev.setUint16(10, declaredCount & 0xffff, true);
  ev.setUint32(12, centralLength, true);
  ev.setUint32(16, offset, true);
  return new Uint8Array(await new Blob([...locals, ...centrals, end]).arrayBuffer());
}

/** A one-entry ZIP (stored or deflated) holding `word/document.xml`. */
export function zipWith(xml: Uint8Array, deflate: boolean): Promise<Uint8Array> {
  return zipOf([{ name: 'word/document.xml', data: xml }], deflate);
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/**
 * A minimal workbook or presentation: the main part listing `parts` (worksheets or slides, given as
 * their XML) through its relationships, as Excel and PowerPoint write them.
 */
export function officeEntries(kind: 'xlsx' | 'pptx', parts: Uint8Array[]): { name: string; data: Uint8Array }[] {
  const [dir, main, folder, item, list] =
    kind === 'xlsx'
      ? [
          'xl/',
          'workbook.xml',
          'worksheets/sheet',
          (n: number) => `<sheet name="S${n}" sheetId="${n}" r:id="rId${n}"/>`,
          'sheets',
        ]
      : [
          'ppt/',
          'presentation.xml',
          'slides/slide',
          (n: number) => `<p:sldId id="${255 + n}" r:id="rId${n}"/>`,
          'p:sldIdLst',
        ];
  const numbers = parts.map((_, i) => i + 1);
  const rels = numbers.map((n) => `<Relationship Id="rId${n}" Type="t" Target="${folder}${n}.xml"/>`).join('');
  return [
    { name: `${dir}${main}`, data: utf8(`<root><${list}>${numbers.map(item).join('')}</${list}></root>`) },
    { name: `${dir}_rels/${main}.rels`, data: utf8(`<Relationships>${rels}</Relationships>`) },
    ...parts.map((data, i) => ({ name: `${dir}${folder}${i + 1}.xml`, data })),
  ];
}

/** A workbook of worksheets (their XML) named S1, S2…, or a presentation of slides. */
export function officeZip(kind: 'xlsx' | 'pptx', parts: Uint8Array[], deflate: boolean): Promise<Uint8Array> {
  return zipOf(officeEntries(kind, parts), deflate);
}

/** `unit` repeated to fill `bytes` bytes, between `head` and `tail` (a bomb's payload: it deflates ~1000:1). */
export function repeated(head: string, unit: string, bytes: number, tail: string): Uint8Array {
  const [h, u, t] = [utf8(head), utf8(unit), utf8(tail)];
  const out = new Uint8Array(h.length + Math.floor(bytes / u.length) * u.length + t.length);
  out.set(h, 0);
  let at = h.length;
  for (; at + u.length <= out.length - t.length; at += u.length) out.set(u, at);
  out.set(t, at);
  return out;
}

export const base64 = (bytes: Uint8Array) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
};
