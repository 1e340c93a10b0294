import { SourceFailure } from './failure';

/**
 * The bounded ZIP reading that Office files (.docx, .xlsx, .pptx: ZIP archives of XML parts) share,
 * without a dependency. The central directory is read once (at most MAX_ENTRIES entries), only the
 * parts asked for are inflated, with the runtime's own DecompressionStream, and all the parts of one
 * file draw on one byte budget: inflation stops as soon as the output passes what is left of it,
 * whatever sizes the archive declares, so a zip bomb (or a thousand small ones) costs at most that.
 */
const MAX_ENTRIES = 10_000;

/** Office XML is ~10x its text: XML inflated per character kept, and at most 32 MiB per file. */
const XML_BYTES_PER_CHAR = 16;
const MAX_XML_BYTES = 32 * 1024 * 1024;

/** The XML byte budget for keeping `chars` characters of a document (sources and attachments alike). */
function xmlBudget(chars: number): number {
  return Math.min(MAX_XML_BYTES, chars * XML_BYTES_PER_CHAR);
}

/** What a file is called in error messages: "a readable Word document" etc. */
export type OfficeFormat = 'Word document' | 'Excel workbook' | 'PowerPoint presentation';

/** One archive being read: its entries by name, and what is left of its inflate budget. */
export type ZipArchive = {
  filename: string;
  format: OfficeFormat;
  bytes: Uint8Array;
  /** Central directory record offset of each entry, by name. */
  entries: Map<string, number>;
  budget: number;
  left: number;
};

function u16(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}
function u32(b: Uint8Array, at: number): number {
  return (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;
}

export function unreadable(zip: { filename: string; format: OfficeFormat }, why: string): SourceFailure {
  return new SourceFailure('UNREADABLE', `"${zip.filename}" is not a readable ${zip.format}: ${why}.`);
}

/**
 * Reads the central directory (names and where each entry's record is); nothing is inflated yet.
 * `chars`: the characters of text the caller keeps, which sets the inflate budget.
 */
export function openZip(filename: string, format: OfficeFormat, bytes: Uint8Array, chars: number): ZipArchive {
  const budget = xmlBudget(chars);
  const zip: ZipArchive = { filename, format, bytes, entries: new Map(), budget, left: budget };
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65_557); i--) {
    if (u32(bytes, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw unreadable(zip, 'it is not a ZIP archive');
  const count = u16(bytes, eocd + 10);
  if (count > MAX_ENTRIES) throw unreadable(zip, `it has more than ${MAX_ENTRIES} parts`);
  let at = u32(bytes, eocd + 16);
  const decoder = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || u32(bytes, at) !== 0x02014b50) throw unreadable(zip, 'its ZIP directory is damaged');
    const nameLength = u16(bytes, at + 28);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    if (!zip.entries.has(name)) zip.entries.set(name, at);
    at += 46 + nameLength + u16(bytes, at + 30) + u16(bytes, at + 32);
  }
  return zip;
}

/** Names of the entries under `prefix` (in directory order), at most `max` of them. */
export function entriesUnder(zip: ZipArchive, prefix: string, max: number): string[] {
  const out: string[] = [];
  for (const name of zip.entries.keys()) {
    if (out.length >= max) break;
    if (name.startsWith(prefix)) out.push(name);
  }
  return out;
}

/** An entry's compressed bytes and method, or undefined when the archive has no such entry. */
export function findEntry(zip: ZipArchive, name: string): { data: Uint8Array; method: number } | undefined {
  const at = zip.entries.get(name);
  if (at === undefined) return undefined;
  const { bytes } = zip;
  const localHeader = u32(bytes, at + 42);
  if (localHeader + 30 > bytes.length || u32(bytes, localHeader) !== 0x04034b50) {
    throw unreadable(zip, 'its ZIP entry is damaged');
  }
  const start = localHeader + 30 + u16(bytes, localHeader + 26) + u16(bytes, localHeader + 28);
  const compressedSize = u32(bytes, at + 20);
  if (start + compressedSize > bytes.length) throw unreadable(zip, 'it is truncated');
  return { data: bytes.subarray(start, start + compressedSize), method: u16(bytes, at + 10) };
}

function overBudget(zip: ZipArchive): SourceFailure {
  return new SourceFailure(
    'UNREADABLE',
    `"${zip.filename}" expands to more than ${zip.budget} bytes of document text when decompressed (a ZIP bomb, or simply too large).`,
  );
}

/** Inflates raw DEFLATE data, refusing output beyond what is left of the budget (checked per chunk). */
async function inflateBounded(zip: ZipArchive, data: Uint8Array): Promise<Uint8Array> {
  const reader = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > zip.left) throw overBudget(zip);
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof SourceFailure) throw error;
    throw unreadable(zip, 'its compressed data is damaged');
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

/** The text of one XML part, charged to the archive's budget; undefined when the part is absent. */
export async function readXml(zip: ZipArchive, name: string): Promise<string | undefined> {
  const entry = findEntry(zip, name);
  if (!entry) return undefined;
  let xmlBytes: Uint8Array;
  if (entry.method === 0) {
    if (entry.data.length > zip.left) throw overBudget(zip);
    xmlBytes = entry.data;
  } else if (entry.method === 8) {
    xmlBytes = await inflateBounded(zip, entry.data);
  } else {
    throw unreadable(zip, `its ZIP compression method ${entry.method} is not supported`);
  }
  zip.left -= xmlBytes.length;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(xmlBytes);
  } catch {
    throw unreadable(zip, `its part ${name} is not valid UTF-8`);
  }
}

/** Like readXml, for the part a format cannot do without: its absence means this is not such a file. */
export async function requireXml(zip: ZipArchive, name: string): Promise<string> {
  const xml = await readXml(zip, name);
  if (xml === undefined) throw unreadable(zip, `it has no ${name}, which every ${zip.format} has`);
  return xml;
}
