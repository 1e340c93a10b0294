/**
 * How large a PDF's streams become once decompressed, measured before pdf.js sees the file. pdf.js
 * inflates a content stream whole into memory (65 KB of Flate can become 64 MB), and nothing in it
 * limits that. This scan finds every `stream … endstream` in the raw bytes, runs its filter chain
 * with a cap on each step's output, and refuses the file once one stream or all of them together
 * pass the limits. Work is bounded by the input size plus the caps, whatever the file claims.
 *
 * Known gap: an encrypted PDF's streams cannot be measured without decrypting them; in a file that
 * names /Encrypt, a stream that does not inflate counts as its raw size, and for what pdf.js then
 * decrypts and inflates only the operation and time budget of pdf-budget.ts applies.
 */
import { decodedLength, OverCap } from './pdf-filters';

export type StreamLimits = {
  /** Decoded bytes allowed for any one stream. */
  maxStreamBytes: number;
  /** Decoded bytes allowed for all streams of the file together. */
  maxTotalBytes: number;
};

export type StreamScan =
  | { ok: true; streams: number; decodedBytes: number }
  | { ok: false; reason: string; streams: number; decodedBytes: number };

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const STREAM = ascii('stream');
const ENDSTREAM = ascii('endstream');
const ENCRYPT = ascii('/Encrypt');

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0] as number;
  let i = haystack.indexOf(first, from);
  while (i !== -1 && i + needle.length <= haystack.length) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
    i = haystack.indexOf(first, i + 1);
  }
  return -1;
}

const latin1 = new TextDecoder('latin1');

/** The filter names of the stream dictionary that ends right before `stream`. */
function filtersBefore(bytes: Uint8Array, keyword: number, floor: number): string[] {
  // The dictionary is the text after the last `obj` keyword, within a bounded window.
  const window = latin1.decode(bytes.subarray(Math.max(floor, keyword - 4096), keyword));
  const dict = window.slice(window.lastIndexOf('obj') + 1);
  const match = /\/Filter\s*(\[[^\]]{0,512}\]|\/[^\s/[\]<>()]{1,64})/.exec(dict);
  if (!match?.[1]) return [];
  return [...match[1].matchAll(/\/([^\s/[\]<>()]{1,64})/g)].map((m) => m[1] as string);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
/** Decoded bytes between turns given to other requests. */
const YIELD_EVERY_BYTES = 4 * 1024 * 1024;

const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

export async function scanPdfStreams(bytes: Uint8Array, limits: StreamLimits): Promise<StreamScan> {
  const encrypted = indexOfBytes(bytes, ENCRYPT, 0) >= 0;
  let streams = 0;
  let decodedBytes = 0;
  let sinceYield = 0;
  let from = 0;
  while (from < bytes.length) {
    const at = indexOfBytes(bytes, STREAM, from);
    if (at < 0) break;
    const after = at + STREAM.length;
    // `endstream`, or `stream` not followed by an end of line, is not the start of stream data.
    const isEnd = at >= 3 && bytes[at - 3] === 0x65 && bytes[at - 2] === 0x6e && bytes[at - 1] === 0x64;
    if (isEnd || (bytes[after] !== 0x0a && bytes[after] !== 0x0d)) {
      from = after;
      continue;
    }
    const start = bytes[after] === 0x0d && bytes[after + 1] === 0x0a ? after + 2 : after + 1;
    const endAt = indexOfBytes(bytes, ENDSTREAM, start);
    let end = endAt < 0 ? bytes.length : endAt;
    // The end of line before `endstream` is not part of the data.
    if (end > start && bytes[end - 1] === 0x0a) end--;
    if (end > start && bytes[end - 1] === 0x0d) end--;
    const filters = filtersBefore(bytes, at, from);
    streams++;
    const cap = Math.min(limits.maxStreamBytes, limits.maxTotalBytes - decodedBytes);
    let size: number;
    try {
      size = decodedLength(bytes.subarray(start, end), filters, cap, encrypted);
    } catch (error) {
      if (!(error instanceof OverCap)) throw error;
      const reason =
        cap < limits.maxStreamBytes
          ? `its streams decompress to more than ${mib(limits.maxTotalBytes)} in total`
          : `one of its streams decompresses to more than ${mib(limits.maxStreamBytes)}`;
      return { ok: false, reason, streams, decodedBytes };
    }
    decodedBytes += size;
    sinceYield += size;
    if (sinceYield >= YIELD_EVERY_BYTES) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
    from = endAt < 0 ? bytes.length : endAt + ENDSTREAM.length;
  }
  return { ok: true, streams, decodedBytes };
}
