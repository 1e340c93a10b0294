import { sha256Hex } from '../auth/keys';
import type { NewAttachment } from '../db/queries/messages';
import type { Env } from '../env';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { AttachmentInput } from './input';
import { attachmentLimits, base64DecodedLength } from './limits';
import { extractPdfText } from './pdf';

/** Declared MIME types we accept, and the kind of content each must be. */
const SUPPORTED: Record<string, 'pdf' | 'text' | 'markdown' | 'csv' | 'json' | 'html'> = {
  'application/pdf': 'pdf',
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/csv': 'csv',
  'application/json': 'json',
  'text/html': 'html',
};

export const SUPPORTED_TYPES = Object.keys(SUPPORTED);

function decodeBase64(filename: string, data: string): Uint8Array {
  const clean = data.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) {
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

function decodeUtf8(filename: string, bytes: Uint8Array): string {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    if (text.includes('\u0000')) throw new Error('NUL');
    return text.replace(/^\uFEFF/, '');
  } catch {
    throw new AppError(
      'BAD_REQUEST',
      `Attachment "${filename}" is declared as text but is not valid UTF-8 text (detected ${sniff(bytes)}).`,
    );
  }
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|li|h[1-6]|tr)>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
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
    const kind = SUPPORTED[input.mimeType];
    if (!kind) {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Attachment "${input.filename}" has unsupported type "${input.mimeType}". Supported: ${SUPPORTED_TYPES.join(', ')}.`,
      );
    }
    const size = base64DecodedLength(input.data);
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
    const kind = SUPPORTED[input.mimeType] ?? 'text';
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
        password: input.password,
      });
      text = pdf.text;
      pageCount = pdf.pageCount;
      pagesTruncated = pdf.pagesRead < pdf.pageCount;
    } else {
      if (detected === 'application/pdf') {
        throw new AppError(
          'BAD_REQUEST',
          `Attachment "${input.filename}" is declared ${input.mimeType} but its content is a PDF: send it as application/pdf.`,
        );
      }
      text = decodeUtf8(input.filename, bytes);
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
    }
    const charCount = text.length;
    const truncated = pagesTruncated || charCount > limits.maxChars;
    const kept = charCount > limits.maxChars ? text.slice(0, limits.maxChars) : text;
    out.push({
      id: newId('attachment'),
      filename: input.filename,
      declaredType: input.mimeType,
      detectedType: kind === 'pdf' ? 'application/pdf' : input.mimeType,
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
