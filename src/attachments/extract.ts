import { sha256Hex } from '../auth/keys';
import type { NewAttachment } from '../db/queries/messages';
import type { Env } from '../env';
import { AppError } from '../errors';
import { newId } from '../ids';
import { type Chunk, chunkPages } from '../sources/chunk';
import { extractDocx } from '../sources/docx';
import { SourceFailure } from '../sources/extract';
import { htmlToText } from './html';
import type { AttachmentInput } from './input';
import { type AttachmentLimits, attachmentLimits, base64DecodedLength } from './limits';
import { extractPdfText } from './pdf';

type Kind = 'pdf' | 'docx' | 'text' | 'markdown' | 'csv' | 'json' | 'html';

/** Word's document.xml is ~10x its text: XML allowed per character kept, capped (src/sources/docx.ts). */
const DOCX_XML_BYTES_PER_CHAR = 16;
const DOCX_MAX_XML_BYTES = 32 * 1024 * 1024;

/** Declared MIME types we accept, and the kind of content each must be. */
const SUPPORTED: Record<string, Kind> = {
  'application/pdf': 'pdf',
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/csv': 'csv',
  'application/json': 'json',
  'text/html': 'html',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
};

export const SUPPORTED_TYPES = Object.keys(SUPPORTED);

/** A declared type split into its base type (lower case) and its charset parameter, if any. */
export function parseMimeType(declared: string): { type: string; charset: string | undefined } {
  const [base = '', ...params] = declared.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const [key, value] = param.split('=');
    if (key?.trim().toLowerCase() === 'charset' && value) charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { type: base.trim().toLowerCase(), charset };
}

function kindOf(type: string): Kind | undefined {
  return Object.hasOwn(SUPPORTED, type) ? SUPPORTED[type] : undefined;
}

/** Clients often send a data: URL rather than bare base64; only the payload counts. */
export function base64Payload(data: string): string {
  const match = /^\s*data:[^,]{0,200};base64,/i.exec(data);
  return match ? data.slice(match[0].length) : data;
}

type FromBase64 = (data: string, options: { alphabet: 'base64' | 'base64url' }) => Uint8Array;
/** ES2026 Uint8Array.fromBase64: Workers have it; Node 24 (the bench) with --js-base-64. */
const fromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;

/** Only base64 characters, ASCII whitespace and trailing padding: one pass, no copy, no regex. */
function isBase64(data: string): boolean {
  let padding = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
    if (c === 0x3d) {
      if (++padding > 2) return false;
      continue;
    }
    if (padding > 0) return false;
    const ok =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f ||
      c === 0x2d ||
      c === 0x5f;
    if (!ok) return false;
  }
  return true;
}

/**
 * The attachment's bytes, decoded once into their own buffer: no cleaned copy of the base64 text
 * and no binary string in between (each used to cost the attachment's size again).
 */
function decodeBase64(filename: string, data: string): Uint8Array {
  const payload = base64Payload(data);
  const invalid = () => new AppError('BAD_REQUEST', `Attachment "${filename}": "data" is not valid base64.`);
  if (!isBase64(payload)) throw invalid();
  const urlSafe = payload.includes('-') || payload.includes('_');
  if (!fromBase64) throw new Error('Uint8Array.fromBase64 is missing (Node needs --js-base-64)');
  try {
    return fromBase64(payload, { alphabet: urlSafe ? 'base64url' : 'base64' });
  } catch {
    // A mixed alphabet, misplaced padding or a dangling character.
    throw invalid();
  }
}

function looksLikePdf(bytes: Uint8Array): boolean {
  // The header may follow a little junk; pdf.js accepts it within the first 1024 bytes.
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  return head.includes('%PDF-');
}

function sniff(bytes: Uint8Array): string {
  if (looksLikePdf(bytes)) return 'application/pdf';
  const head = new TextDecoder('utf-8').decode(bytes.subarray(0, 512)).trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'text/html';
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'application/zip';
  return 'application/octet-stream';
}

/** Text in the declared charset (UTF-8 unless the type names another); binary content is refused. */
function decodeText(filename: string, bytes: Uint8Array, charset: string | undefined): string {
  const label = charset ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true, ignoreBOM: false });
  } catch {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Attachment "${filename}" has an unknown charset "${label}".`);
  }
  const encoding = decoder.encoding === 'utf-8' ? 'UTF-8' : decoder.encoding;
  try {
    // The decoder drops a leading byte-order mark itself.
    const text = decoder.decode(bytes);
    if (text.includes('\u0000')) throw new Error('NUL');
    return text;
  } catch {
    throw new AppError(
      'BAD_REQUEST',
      `Attachment "${filename}" is declared as text but is not valid ${encoding} text (detected ${sniff(bytes)}).`,
    );
  }
}

/**
 * What extraction produced, made safe to store and to show a model: no NUL or other control
 * characters (Postgres cannot store NUL; PDF fonts emit junk like U+0003), no lone surrogates.
 */
function cleanText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').toWellFormed();
}

/**
 * Validates and extracts every attachment of a message before anything is stored: one bad file
 * rejects the whole message. Sizes are checked from the base64 length before decoding.
 */
export async function extractAttachments(inputs: AttachmentInput[], env: Env): Promise<NewAttachment[]> {
  if (inputs.length === 0) return [];
  const limits = attachmentLimits(env);
  if (inputs.length > limits.maxCount) {
    throw new AppError('BAD_REQUEST', `Too many attachments: ${inputs.length} (max ${limits.maxCount} per message).`);
  }
  let total = 0;
  for (const input of inputs) {
    const { type } = parseMimeType(input.mimeType);
    if (!kindOf(type)) {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Attachment "${input.filename}" has unsupported type "${input.mimeType}". Supported: ${SUPPORTED_TYPES.join(', ')}.`,
      );
    }
    const size = base64DecodedLength(base64Payload(input.data));
    if (size > limits.maxBytes) {
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `Attachment "${input.filename}" is ${size} bytes; the limit is ${limits.maxBytes} bytes per attachment.`,
      );
    }
    total += size;
  }
  if (total > limits.maxTotalBytes) {
    throw new AppError(
      'PAYLOAD_TOO_LARGE',
      `Attachments total ${total} bytes; the limit is ${limits.maxTotalBytes} bytes per message.`,
    );
  }

  const out: NewAttachment[] = [];
  for (const input of inputs) {
    const { type, charset } = parseMimeType(input.mimeType);
    const kind = kindOf(type) ?? 'text';
    const bytes = decodeBase64(input.filename, input.data);
    if (bytes.length === 0) throw new AppError('BAD_REQUEST', `Attachment "${input.filename}" is empty.`);
    // Size and hash first: pdf.js takes the buffer over (no copy) and detaches it.
    const byteSize = bytes.length;
    const sha256 = await sha256Hex(bytes);
    const detected = sniff(bytes);
    let text: string;
    let pageCount: number | null = null;
    let pagesTruncated = false;
    // Page by page for a PDF (the chunks of a large attachment cite their pages), else one "page".
    let pages: string[] | undefined;
    if (kind === 'pdf') {
      if (detected !== 'application/pdf') {
        throw new AppError(
          'BAD_REQUEST',
          `Attachment "${input.filename}" is declared application/pdf but its content is not a PDF (detected ${detected}).`,
        );
      }
      const pdf = await extractPdfText(input.filename, bytes, {
        maxPages: limits.maxPdfPages,
        // Pages past the character limits would be cut anyway: stop reading there (CPU). Past the
        // stored text's limit, pages are still read for the chunks that retrieval searches.
        stopAfterChars: Math.max(limits.maxChars, limits.maxIndexedChars),
        acceptAfterChars: limits.maxChars,
        password: input.password,
        maxStreamBytes: limits.maxPdfStreamBytes,
        maxDecodedBytes: limits.maxPdfDecodedBytes,
        maxOperations: limits.maxPdfOperations,
        maxMs: limits.maxPdfMs,
      });
      text = cleanText(pdf.text);
      pages = pdf.pages.map(cleanText);
      pageCount = pdf.pageCount;
      pagesTruncated = pdf.pagesRead < pdf.pageCount || pdf.budgetReached;
    } else if (kind === 'docx') {
      // The bounded reader the knowledge sources use: only word/document.xml is inflated, and
      // inflation stops at a size tied to the characters we keep (a zip bomb costs no more).
      const keep = Math.max(limits.maxChars, limits.maxIndexedChars);
      try {
        text = cleanText(
          await extractDocx(input.filename, bytes, Math.min(DOCX_MAX_XML_BYTES, keep * DOCX_XML_BYTES_PER_CHAR)),
        );
      } catch (error) {
        if (error instanceof SourceFailure) {
          throw new AppError('UNPROCESSABLE', `Attachment ${error.message}`, { cause: error });
        }
        throw error;
      }
    } else {
      if (detected === 'application/pdf') {
        throw new AppError(
          'BAD_REQUEST',
          `Attachment "${input.filename}" is declared ${type} but its content is a PDF: send it as application/pdf.`,
        );
      }
      text = decodeText(input.filename, bytes, charset);
      if (kind === 'json') {
        try {
          JSON.parse(text);
        } catch {
          throw new AppError(
            'BAD_REQUEST',
            `Attachment "${input.filename}" is declared application/json but is not valid JSON.`,
          );
        }
      }
      if (kind === 'html') text = htmlToText(text);
      text = cleanText(text);
    }
    const charCount = text.length;
    const truncated = pagesTruncated || charCount > limits.maxChars;
    // Never cut a surrogate pair in half.
    const kept = charCount > limits.maxChars ? text.slice(0, limits.maxChars).toWellFormed() : text;
    const chunks = attachmentChunks(pages ?? [text], pages !== undefined, limits);
    out.push({
      id: newId('attachment'),
      filename: input.filename,
      declaredType: type,
      detectedType: kind === 'pdf' ? 'application/pdf' : type,
      byteSize,
      sha256,
      pageCount,
      charCount,
      text: kept,
      truncated,
      hasText: kept.trim().length > 0,
      ...(chunks.length > 0 ? { chunks } : {}),
    });
  }
  return out;
}

/**
 * Chunks of a large attachment (issue 17), so a turn can retrieve any passage of it, not only what
 * fits the prompt: the same chunker as knowledge sources, over at most `maxIndexedChars` characters
 * (whole pages while they fit, then part of the next). Attachments under `chunkMinChars` get none.
 */
function attachmentChunks(pages: string[], paged: boolean, limits: AttachmentLimits): Chunk[] {
  if (limits.maxIndexedChars <= 0) return [];
  let total = 0;
  for (const page of pages) total += page.length;
  if (total < limits.chunkMinChars) return [];
  const kept: string[] = [];
  let room = limits.maxIndexedChars;
  for (const page of pages) {
    if (room <= 0) break;
    kept.push(page.length <= room ? page : page.slice(0, room).toWellFormed());
    room -= page.length;
  }
  return chunkPages(kept, paged);
}
