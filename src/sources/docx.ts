import { SourceFailure } from './failure';

/**
 * Text of a Word (.docx) file, without a dependency: a .docx is a ZIP whose `word/document.xml` holds
 * the text. The ZIP's central directory is read (bounded: at most MAX_ENTRIES entries), only that one
 * entry is inflated, with the runtime's own DecompressionStream, and inflation stops as soon as the
 * output passes `maxXmlBytes`, whatever the sizes the archive declares: a zip bomb costs at most that.
 * The XML is then read in one linear pass: paragraphs become lines, runs' text is joined, tabs and
 * breaks kept, and paragraphs styled as headings are marked "# " so the chunker starts chunks there.
 */
const MAX_ENTRIES = 10_000;

/** Word's document.xml is ~10x its text: XML inflated per character kept, and at most 32 MiB. */
const XML_BYTES_PER_CHAR = 16;
const MAX_XML_BYTES = 32 * 1024 * 1024;

/** The `maxXmlBytes` for keeping `chars` characters of a document (sources and attachments alike). */
export function docxXmlBudget(chars: number): number {
  return Math.min(MAX_XML_BYTES, chars * XML_BYTES_PER_CHAR);
}
const DOCUMENT = 'word/document.xml';

function u16(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}
function u32(b: Uint8Array, at: number): number {
  return (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;
}

function unreadable(filename: string, why: string): SourceFailure {
  return new SourceFailure('UNREADABLE', `"${filename}" is not a readable Word document: ${why}.`);
}

/** Where `word/document.xml`'s compressed bytes are, from the central directory. */
function findDocument(filename: string, zip: Uint8Array): { data: Uint8Array; method: number } {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (u32(zip, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw unreadable(filename, 'it is not a ZIP archive');
  const entries = u16(zip, eocd + 10);
  let at = u32(zip, eocd + 16);
  if (entries > MAX_ENTRIES) throw unreadable(filename, `it has more than ${MAX_ENTRIES} parts`);
  const decoder = new TextDecoder();
  for (let n = 0; n < entries; n++) {
    if (at + 46 > zip.length || u32(zip, at) !== 0x02014b50) throw unreadable(filename, 'its ZIP directory is damaged');
    const method = u16(zip, at + 10);
    const compressedSize = u32(zip, at + 20);
    const nameLength = u16(zip, at + 28);
    const extraLength = u16(zip, at + 30);
    const commentLength = u16(zip, at + 32);
    const localHeader = u32(zip, at + 42);
    const name = decoder.decode(zip.subarray(at + 46, at + 46 + nameLength));
    if (name === DOCUMENT) {
      if (localHeader + 30 > zip.length || u32(zip, localHeader) !== 0x04034b50) {
        throw unreadable(filename, 'its ZIP entry is damaged');
      }
      const start = localHeader + 30 + u16(zip, localHeader + 26) + u16(zip, localHeader + 28);
      if (start + compressedSize > zip.length) throw unreadable(filename, 'it is truncated');
      return { data: zip.subarray(start, start + compressedSize), method };
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw unreadable(filename, `it has no ${DOCUMENT} (is it a Word file?)`);
}

/** Inflates raw DEFLATE data, refusing output beyond `maxBytes` (checked per chunk as it streams). */
async function inflateBounded(filename: string, data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        throw new SourceFailure(
          'UNREADABLE',
          `"${filename}" expands to more than ${maxBytes} bytes of document text when decompressed (a ZIP bomb, or simply too large).`,
        );
      }
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof SourceFailure) throw error;
    throw unreadable(filename, 'its compressed data is damaged');
  } finally {
    reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXmlText(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-f]{1,6});/gi, (m, e: string) => {
    if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
    const n = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
    return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m;
  });
}

/**
 * Plain text of document.xml: one line per paragraph, "# " before heading paragraphs. A single pass
 * from one "<" to the next (indexOf only, no backtracking regex), so the work is linear in the XML
 * whatever it contains; a tag is looked at through its first 300 characters.
 */
export function documentXmlToText(xml: string): string {
  const lines: string[] = [];
  let line = '';
  let style = '';
  let inText = false;
  let i = 0;
  const endParagraph = () => {
    const text = line.trim();
    if (text !== '') lines.push(/^(heading|title)/i.test(style) ? `# ${text}` : text);
    line = '';
    style = '';
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    if (inText && lt > i) line += decodeXmlText(xml.slice(i, lt));
    const gt = xml.indexOf('>', lt);
    if (gt < 0) break;
    const tag = xml.slice(lt + 1, Math.min(gt, lt + 301));
    const name = /^\/?[\w:]+/.exec(tag)?.[0] ?? '';
    const selfClosing = tag.endsWith('/');
    if (name === 'w:t') inText = !selfClosing;
    else if (name === '/w:t') inText = false;
    else if (name === 'w:tab') line += '\t';
    else if (name === 'w:br' || name === 'w:cr') line += '\n';
    else if (name === 'w:pStyle') style = /w:val="([^"]*)"/.exec(tag)?.[1] ?? '';
    else if (name === '/w:p' || (name === 'w:p' && selfClosing)) endParagraph();
    i = gt + 1;
  }
  endParagraph();
  return lines.join('\n');
}

export async function extractDocx(filename: string, bytes: Uint8Array, maxXmlBytes: number): Promise<string> {
  const entry = findDocument(filename, bytes);
  let xmlBytes: Uint8Array;
  if (entry.method === 0) {
    if (entry.data.length > maxXmlBytes)
      throw unreadable(filename, `its text part is larger than ${maxXmlBytes} bytes`);
    xmlBytes = entry.data;
  } else if (entry.method === 8) {
    xmlBytes = await inflateBounded(filename, entry.data, maxXmlBytes);
  } else {
    throw unreadable(filename, `its ZIP compression method ${entry.method} is not supported`);
  }
  let xml: string;
  try {
    xml = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(xmlBytes);
  } catch {
    throw unreadable(filename, 'its text part is not valid UTF-8');
  }
  return documentXmlToText(xml);
}
