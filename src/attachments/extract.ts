import { sha256Hex } from '../auth/keys';
import type { NewAttachment } from '../db/queries/messages';
import type { Env } from '../env';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { AttachmentInput } from './input';
import { attachmentLimits, base64DecodedLength } from './limits';
import { extractPdfText } from './pdf';

type Kind = 'pdf' | 'text' | 'markdown' | 'csv' | 'json' | 'html';

/** Declared MIME types we accept, and the kind of content each must be. */
const SUPPORTED: Record<string, Kind> = {
  'application/pdf': 'pdf',
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/csv': 'csv',
  'application/json': 'json',
  'text/html': 'html',
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

function decodeBase64(filename: string, data: string): Uint8Array {
  const clean = base64Payload(data).replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean) || clean.replace(/=+$/, '').length % 4 === 1) {
    throw new AppError('BAD_REQUEST', `Attachment "${filename}": "data" is not valid base64.`);
  }
  try {
    const binary = atob(clean.replaceAll('-', '+').replaceAll('_', '/'));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    throw new AppError('BAD_REQUEST', `Attachment "${filename}": "data" is not valid base64.`);
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

function codePoint(n: number): string | undefined {
  return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|li|h[1-6]|tr)>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#(\d{1,7});/g, (m, n: string) => codePoint(Number(n)) ?? m)
    .replace(/&#x([0-9a-f]{1,6});/gi, (m, n: string) => codePoint(Number.parseInt(n, 16)) ?? m)
    .replace(/&amp;/g, '&')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/\n\s*\n\s*/g, '\n\n')
    .trim();
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
    const detected = sniff(bytes);
    let text: string;
    let pageCount: number | null = null;
    let pagesTruncated = false;
    if (kind === 'pdf') {
      if (detected !== 'application/pdf') {
        throw new AppError(
          'BAD_REQUEST',
          `Attachment "${input.filename}" is declared application/pdf but its content is not a PDF (detected ${detected}).`,
        );
      }
      const pdf = await extractPdfText(input.filename, bytes, {
        maxPages: limits.maxPdfPages,
        // Pages past the character limit would be cut anyway: stop reading there (CPU).
        stopAfterChars: limits.maxChars,
        password: input.password,
      });
      text = cleanText(pdf.text);
      pageCount = pdf.pageCount;
      pagesTruncated = pdf.pagesRead < pdf.pageCount;
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
    out.push({
      id: newId('attachment'),
      filename: input.filename,
      declaredType: type,
      detectedType: kind === 'pdf' ? 'application/pdf' : type,
      byteSize: bytes.length,
      sha256: await sha256Hex(bytes),
      pageCount,
      charCount,
      text: kept,
      truncated,
      hasText: kept.trim().length > 0,
    });
  }
  return out;
}
