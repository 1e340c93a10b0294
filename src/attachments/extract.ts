import { sha256Hex } from '../auth/keys';
import type { AttachmentLimits } from '../config';
import type { NewAttachment } from '../db/queries/messages';
import { AppError } from '../errors';
import { newId } from '../ids';
import { type Chunk, chunkPages } from '../sources/chunk';
import { SourceFailure } from '../sources/failure';
import { extractOffice, isOfficeKind, type OfficeKind } from '../sources/office';
import { decodeBase64 } from './base64';
import { htmlToText } from './html';
import type { AttachmentInput } from './input';
import { checkUpload, type Kind, kindOf, parseMimeType, SUPPORTED_TYPES, sniff } from './mime';
import { extractPdfText } from './pdf';

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

/** Count, types and sizes of a message's attachments, from the base64 lengths (nothing decoded yet). */
function checkInputs(inputs: AttachmentInput[], limits: AttachmentLimits): void {
  if (inputs.length > limits.maxCount) {
    throw new AppError('BAD_REQUEST', `Too many attachments: ${inputs.length} (max ${limits.maxCount} per message).`);
  }
  let total = 0;
  for (const input of inputs) {
    const size = checkUpload('Attachment', input, SUPPORTED_TYPES, limits.maxBytes);
    total += size;
  }
  if (total > limits.maxTotalBytes) {
    throw new AppError(
      'PAYLOAD_TOO_LARGE',
      `Attachments total ${total} bytes; the limit is ${limits.maxTotalBytes} bytes per message.`,
    );
  }
}

/** Text of one file: page by page for a PDF (the chunks of a large attachment cite their pages). */
type Extracted = {
  text: string;
  pages?: string[];
  pageCount: number | null;
  pagesTruncated: boolean;
  /** Pages were left unread (budget, page or character limit): the queue can index the rest. */
  unread?: boolean;
};

async function pdfText(input: AttachmentInput, bytes: Uint8Array, limits: AttachmentLimits): Promise<Extracted> {
  const detected = sniff(bytes);
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
  return {
    text: cleanText(pdf.text),
    pages: pdf.pages.map(cleanText),
    pageCount: pdf.pageCount,
    pagesTruncated: pdf.pagesRead < pdf.pageCount || pdf.budgetReached,
    unread: pdf.pagesRead < pdf.pageCount,
  };
}

/**
 * The bounded readers the knowledge sources use (Word, Excel, PowerPoint): only the XML parts with
 * text are inflated, and inflation stops at a size tied to the characters we keep (a zip bomb costs
 * no more).
 */
async function officeText(
  kind: OfficeKind,
  input: AttachmentInput,
  bytes: Uint8Array,
  limits: AttachmentLimits,
): Promise<Extracted> {
  const keep = Math.max(limits.maxChars, limits.maxIndexedChars);
  try {
    const text = cleanText(await extractOffice(kind, input.filename, bytes, keep));
    return { text, pageCount: null, pagesTruncated: false };
  } catch (error) {
    if (error instanceof SourceFailure) {
      throw new AppError('UNPROCESSABLE', `Attachment ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** Text, Markdown, CSV, JSON (checked to parse) and HTML (reduced to its text). */
function plainText(input: AttachmentInput, bytes: Uint8Array, kind: Kind): Extracted {
  const { type, charset } = parseMimeType(input.mimeType);
  if (sniff(bytes) === 'application/pdf') {
    throw new AppError(
      'BAD_REQUEST',
      `Attachment "${input.filename}" is declared ${type} but its content is a PDF: send it as application/pdf.`,
    );
  }
  let text = decodeText(input.filename, bytes, charset);
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
  return { text: cleanText(text), pageCount: null, pagesTruncated: false };
}

async function extractOne(input: AttachmentInput, limits: AttachmentLimits): Promise<NewAttachment> {
  const { type } = parseMimeType(input.mimeType);
  const kind = kindOf(type) ?? 'text';
  const bytes = decodeBase64(`Attachment "${input.filename}"`, input.data);
  if (bytes.length === 0) throw new AppError('BAD_REQUEST', `Attachment "${input.filename}" is empty.`);
  // Size and hash first: pdf.js takes the buffer over (no copy) and detaches it.
  const byteSize = bytes.length;
  const sha256 = await sha256Hex(bytes);
  const { text, pages, pageCount, pagesTruncated, unread } =
    kind === 'pdf'
      ? await pdfText(input, bytes, limits)
      : isOfficeKind(kind)
        ? await officeText(kind, input, bytes, limits)
        : plainText(input, bytes, kind);
  const charCount = text.length;
  // Never cut a surrogate pair in half.
  const kept = charCount > limits.maxChars ? text.slice(0, limits.maxChars).toWellFormed() : text;
  const chunks = attachmentChunks(pages ?? [text], pages !== undefined, limits);
  return {
    id: newId('attachment'),
    filename: input.filename,
    declaredType: type,
    detectedType: kind === 'pdf' ? 'application/pdf' : type,
    byteSize,
    sha256,
    pageCount,
    charCount,
    text: kept,
    truncated: pagesTruncated || charCount > limits.maxChars,
    hasText: kept.trim().length > 0,
    ...(chunks.length > 0 ? { chunks } : {}),
    // Read to the end off the request (services/attachment-index.ts); never with a password, which
    // is not kept.
    ...(unread && input.password === undefined ? { indexLater: true } : {}),
  };
}

/**
 * Validates and extracts every attachment of a message before anything is stored: one bad file
 * rejects the whole message. Sizes are checked from the base64 length before decoding.
 */
export async function extractAttachments(
  inputs: AttachmentInput[],
  limits: AttachmentLimits,
): Promise<NewAttachment[]> {
  if (inputs.length === 0) return [];
  checkInputs(inputs, limits);
  const out: NewAttachment[] = [];
  // One at a time: each file's decoded bytes and text are garbage before the next is decoded.
  for (const input of inputs) out.push(await extractOne(input, limits));
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
