import { type Env, intSetting } from '../env';

export type AttachmentLimits = {
  maxBytes: number;
  maxCount: number;
  maxTotalBytes: number;
  maxPdfPages: number;
  maxChars: number;
  /**
   * Characters of a large attachment chunked for retrieval (issue 17), beyond `maxChars`: the text
   * stored with the message stays capped, the passages past the cap are still found. 0 turns
   * chunking off. Bounds the chunks' share of the turn's statement (Neon takes ≤ 10 MiB of JSON).
   */
  maxIndexedChars: number;
  /** Attachments with at least this many characters are chunked; smaller ones fit the prompt whole. */
  chunkMinChars: number;
  /** Decompressed bytes allowed for one PDF stream, and for all streams of one PDF (pdf-streams.ts). */
  maxPdfStreamBytes: number;
  maxPdfDecodedBytes: number;
  /** Content stream operators and wall-clock milliseconds allowed per PDF (pdf-budget.ts). */
  maxPdfOperations: number;
  maxPdfMs: number;
};

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = {
  maxBytes: 10 * 1024 * 1024,
  maxCount: 5,
  // 10 MiB per message (was 20): with the body and its parsed copy, two 10 MiB files did not fit a
  // 128 MB isolate (bench section 7).
  maxTotalBytes: 10 * 1024 * 1024,
  maxPdfPages: 100,
  maxChars: 100_000,
  maxIndexedChars: 300_000,
  chunkMinChars: 8_000,
  // pdf.js holds a page's decoded content streams at once, at about 2.5× their size (bench section 7).
  maxPdfStreamBytes: 8 * 1024 * 1024,
  maxPdfDecodedBytes: 24 * 1024 * 1024,
  maxPdfOperations: 3_000_000,
  maxPdfMs: 10_000,
};

export function attachmentLimits(env: Env): AttachmentLimits {
  const d = DEFAULT_ATTACHMENT_LIMITS;
  return {
    maxBytes: intSetting(env.ATTACHMENT_MAX_BYTES, d.maxBytes),
    maxCount: intSetting(env.ATTACHMENTS_MAX_COUNT, d.maxCount),
    maxTotalBytes: intSetting(env.ATTACHMENTS_MAX_TOTAL_BYTES, d.maxTotalBytes),
    maxPdfPages: intSetting(env.PDF_MAX_PAGES, d.maxPdfPages),
    maxChars: intSetting(env.ATTACHMENT_MAX_CHARS, d.maxChars),
    maxIndexedChars: intSetting(env.ATTACHMENT_MAX_INDEXED_CHARS, d.maxIndexedChars),
    chunkMinChars: intSetting(env.ATTACHMENT_CHUNK_MIN_CHARS, d.chunkMinChars),
    maxPdfStreamBytes: intSetting(env.PDF_MAX_STREAM_BYTES, d.maxPdfStreamBytes),
    maxPdfDecodedBytes: intSetting(env.PDF_MAX_DECODED_BYTES, d.maxPdfDecodedBytes),
    maxPdfOperations: intSetting(env.PDF_MAX_OPERATIONS, d.maxPdfOperations),
    maxPdfMs: intSetting(env.PDF_MAX_MS, d.maxPdfMs),
  };
}

/** Bytes a base64 string decodes to, without decoding or copying it (whitespace skipped). */
export function base64DecodedLength(data: string): number {
  let chars = 0;
  let padding = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
    chars++;
    padding = c === 0x3d ? padding + 1 : 0;
  }
  return Math.floor((chars * 3) / 4) - Math.min(padding, 2);
}
