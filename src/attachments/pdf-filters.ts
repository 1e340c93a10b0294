/**
 * The PDF stream filters, run with a cap on each step's output so that a stream's decoded size is
 * known without ever holding more than the cap (pdf-streams.ts measures every stream with them).
 */
import { inflateSync } from 'node:zlib';

/** Thrown by a decoding step whose output would pass its cap. */
export class OverCap extends Error {}

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
export function decodedLength(data: Uint8Array, filters: string[], cap: number, encrypted: boolean): number {
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
