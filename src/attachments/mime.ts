import { AppError } from '../errors';
import { base64DecodedLength, base64Payload } from './base64';

export type Kind = 'pdf' | 'docx' | 'xlsx' | 'pptx' | 'text' | 'markdown' | 'csv' | 'json' | 'html';

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
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
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

export function kindOf(type: string): Kind | undefined {
  return Object.hasOwn(SUPPORTED, type) ? SUPPORTED[type] : undefined;
}

/** Whether the bytes start like a PDF: the header may follow a little junk (pdf.js accepts 1024 bytes of it). */
export function looksLikePdf(bytes: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  return head.includes('%PDF-');
}

/** What the content looks like, whatever was declared (for error messages and `detectedType`). */
export function sniff(bytes: Uint8Array): string {
  if (looksLikePdf(bytes)) return 'application/pdf';
  const head = new TextDecoder('utf-8').decode(bytes.subarray(0, 512)).trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'text/html';
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'application/zip';
  return 'application/octet-stream';
}

/**
 * Refuses an uploaded file (`what`: Attachment or Source) whose declared type is not one of `types`
 * or whose decoded size passes `maxBytes`, from the base64 length, before anything is decoded.
 * Returns the decoded size.
 */
export function checkUpload(
  what: 'Attachment' | 'Source',
  input: { filename: string; mimeType: string; data: string },
  types: string[],
  maxBytes: number,
): number {
  if (!types.includes(parseMimeType(input.mimeType).type)) {
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      `${what} "${input.filename}" has unsupported type "${input.mimeType}". Supported: ${types.join(', ')}.`,
    );
  }
  const size = base64DecodedLength(base64Payload(input.data));
  if (size > maxBytes) {
    throw new AppError(
      'PAYLOAD_TOO_LARGE',
      `${what} "${input.filename}" is ${size} bytes; the limit is ${maxBytes} bytes per ${what.toLowerCase()}.`,
    );
  }
  return size;
}
