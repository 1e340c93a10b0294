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
import { inflateSync } from 'node:zlib';

export type StreamLimits = {
  /** Decoded bytes allowed for any one stream. */
  maxStreamBytes: number;
  /** Decoded bytes allowed for all streams of the file together. */
  maxTotalBytes: number;
};

export type StreamScan =
  | { ok: true; streams: number; decodedBytes: number }
  | { ok: false; reason: string; streams: number; decodedBytes: number };

/** Thrown by a decoding step whose output would pass its cap. */
class OverCap extends Error {}

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

/** Z_SYNC_FLUSH: a truncated stream yields what it has, as pdf.js reads it. */
const Z_SYNC_FLUSH = 2;

/**
 * Inflated zlib data, at most `cap` bytes (OverCap past it: zlib stops there, whatever the ratio).
 * Trailing junk is ignored and a truncated stream yields what it has, as in pdf.js. A stream whose
 * checksum is wrong (pdf.js does not check it) is retried without it; one that still fails cannot
 * be measured and counts as `cap`, the most pdf.js could get out of it before this scan objects.
 */
function inflate(data: Uint8Array, cap: number, encrypted: boolean): Uint8Array | number {
  for (const input of [data, data.subarray(0, Math.max(0, data.length - 4))]) {
    try {
      return inflateSync(input, { maxOutputLength: cap + 1, finishFlush: Z_SYNC_FLUSH });
    } catch (error) {
      if (error instanceof RangeError) throw new OverCap();
    }
  }
  return encrypted ? data.length : cap;
}

function asciiHex(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 2));
  let n = 0;
  let high = -1;
  for (const c of data) {
    if (c === 0x3e) break; // '>' ends the data
    const v =
      c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 55 : c >= 0x61 && c <= 0x66 ? c - 87 : -1;
    if (v < 0) continue;
    if (high < 0) high = v;
    else {
      out[n++] = (high << 4) | v;
      high = -1;
    }
  }
  if (high >= 0) out[n++] = high << 4;
  return out.subarray(0, n);
}

function ascii85(data: Uint8Array, cap: number): Uint8Array {
  const out = new Uint8Array(Math.min(cap + 4, Math.ceil((data.length * 5) / 4) * 4 + 4));
  let n = 0;
  let group = 0;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    if (c === 0x7e) break; // '~>' ends the data
    if (c === 0x7a && count === 0) {
      // 'z' is four zero bytes
      if (n + 4 > cap) throw new OverCap();
      n += 4;
      continue;
    }
    if (c < 0x21 || c > 0x75) continue;
    group = group * 85 + (c - 0x21);
    if (++count === 5) {
      if (n + 4 > cap) throw new OverCap();
      out[n++] = group >>> 24;
      out[n++] = (group >>> 16) & 0xff;
      out[n++] = (group >>> 8) & 0xff;
      out[n++] = group & 0xff;
      group = 0;
      count = 0;
    }
  }
  if (count > 1) {
    for (let k = count; k < 5; k++) group = group * 85 + 84;
    for (let k = 0; k < count - 1; k++) out[n++] = (group >>> (24 - 8 * k)) & 0xff;
  }
  return out.subarray(0, n);
}

/** LZW output size (PDF flavour, early change 1), counted from entry lengths without building strings. */
function lzwLength(data: Uint8Array, cap: number): number {
  const lengths = new Uint32Array(4096);
  let next = 258;
  let bits = 9;
  let prev = -1;
  let total = 0;
  let buffer = 0;
  let held = 0;
  for (let i = 0; i < data.length; i++) {
    buffer = ((buffer << 8) | (data[i] as number)) >>> 0;
    held += 8;
    while (held >= bits) {
      held -= bits;
      const code = (buffer >>> held) & ((1 << bits) - 1);
      buffer &= (1 << held) - 1;
      if (code === 256) {
        next = 258;
        bits = 9;
        prev = -1;
        continue;
      }
      if (code === 257) return total;
      let length: number;
      if (code < 256) length = 1;
      else if (code < next) length = lengths[code] as number;
      else if (prev >= 0) length = (prev < 256 ? 1 : (lengths[prev] as number)) + 1;
      else return total;
      if (prev >= 0 && next < 4096) lengths[next++] = (prev < 256 ? 1 : (lengths[prev] as number)) + 1;
      total += length;
      if (total > cap) throw new OverCap();
      prev = code;
      if (next + 1 >= 1 << bits && bits < 12) bits++;
    }
  }
  return total;
}

function runLengthLength(data: Uint8Array, cap: number): number {
  let total = 0;
  let i = 0;
  while (i < data.length) {
    const n = data[i] as number;
    if (n === 128) break;
    if (n < 128) {
      total += n + 1;
      i += n + 2;
    } else {
      total += 257 - n;
      i += 2;
    }
    if (total > cap) throw new OverCap();
  }
  return total;
}

/** Decoded size of one stream through its filter chain; throws OverCap past `cap`. */
function decodedLength(data: Uint8Array, filters: string[], cap: number, encrypted: boolean): number {
  let bytes = data;
  for (let i = 0; i < filters.length; i++) {
    const last = i === filters.length - 1;
    switch (filters[i]) {
      case 'FlateDecode':
      case 'Fl': {
        const out = inflate(bytes, cap, encrypted);
        if (typeof out === 'number') return out;
        bytes = out;
        break;
      }
      case 'ASCIIHexDecode':
      case 'AHx':
        bytes = asciiHex(bytes);
        break;
      case 'ASCII85Decode':
      case 'A85':
        bytes = ascii85(bytes, cap);
        break;
      case 'LZWDecode':
      case 'LZW':
        // Counted, not decoded: only a last step is measured exactly; an earlier one is refused.
        if (!last) throw new OverCap();
        return lzwLength(bytes, cap);
      case 'RunLengthDecode':
      case 'RL':
        if (!last) throw new OverCap();
        return runLengthLength(bytes, cap);
      default:
        // Image codecs (DCT, JPX, CCITT, JBIG2) and Crypt: their output is not text pdf.js reads.
        return bytes.length;
    }
    if (bytes.length > cap) throw new OverCap();
  }
  return bytes.length;
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
