import { extractAttachments } from '../attachments/extract';
import { kindOf, looksLikePdf } from '../attachments/mime';
import { extractPdfText } from '../attachments/pdf';
import { DEFAULT_CONFIG, type SourceLimits } from '../config';
import { AppError } from '../errors';
import { SourceFailure } from './failure';
import { extractOffice, isOfficeKind } from './office';

/** Word documents, for sources and message attachments alike (both read with src/sources/office.ts). */
export const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** Text of a source, page by page (one "page" for documents without pages). */
export type SourcePages = { pages: string[]; paged: boolean; pageCount: number | null };

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/**
 * Page-by-page text of a PDF, with the attachments' bounded reader (src/attachments/pdf.ts: stream
 * sizes checked first, every content-stream operator and millisecond metered) under the queue's
 * own, larger budget (SOURCE_PDF_MAX_OPERATIONS / SOURCE_PDF_MAX_MS). A budget spent after the first
 * page keeps the pages read (the source is READY with `pagesIndexed` short of `pageCount`); spent
 * on the first page, or a file past the stream limits, it is FAILED (TOO_LARGE).
 */
async function pdfPages(filename: string, bytes: Uint8Array, limits: SourceLimits): Promise<SourcePages> {
  if (!looksLikePdf(bytes)) {
    throw new SourceFailure('UNREADABLE', `"${filename}" is declared application/pdf but its content is not a PDF.`);
  }
  try {
    const pdf = await extractPdfText(filename, bytes.slice(), {
      maxPages: limits.maxPages,
      stopAfterChars: limits.maxChars,
      maxStreamBytes: limits.maxPdfStreamBytes,
      maxDecodedBytes: limits.maxPdfDecodedBytes,
      maxOperations: limits.maxPdfOperations,
      maxMs: limits.maxPdfMs,
    });
    const pages = pdf.pages.map((page) => page.replace(CONTROL, '').toWellFormed());
    return { pages, paged: true, pageCount: pdf.pageCount };
  } catch (error) {
    throw pdfFailure(filename, error);
  }
}

/** The reader's refusals, as a source's failure codes. */
function pdfFailure(filename: string, error: unknown): unknown {
  if (!(error instanceof AppError) || error.status >= 500) return error;
  if ((error.cause as { name?: string } | undefined)?.name === 'PasswordException') {
    return new SourceFailure(
      'PASSWORD_PROTECTED',
      `"${filename}" is password-protected; knowledge sources must be readable without a password.`,
    );
  }
  if (/ is refused: /.test(error.message))
    return new SourceFailure('TOO_LARGE', error.message.replace(/^Attachment /, ''));
  return new SourceFailure('UNREADABLE', `"${filename}" is a damaged or invalid PDF and its text cannot be extracted.`);
}

/**
 * The text of a source's bytes. Non-PDF types go through the attachments' own validation and
 * extraction (charset, JSON, HTML), with the source limits in place of the attachment limits.
 */
export async function extractSource(
  input: { filename: string; mimeType: string; bytes: Uint8Array },
  limits: SourceLimits,
): Promise<SourcePages> {
  const type = input.mimeType.split(';')[0]?.trim().toLowerCase();
  const kind = kindOf(type ?? '');
  let result: SourcePages;
  if (type === 'application/pdf') result = await pdfPages(input.filename, input.bytes, limits);
  else if (isOfficeKind(kind)) {
    const text = await extractOffice(kind, input.filename, input.bytes, limits.maxChars);
    result = { pages: [text], paged: false, pageCount: null };
  } else result = await textPages(input, limits);
  if (!result.pages.some((p) => p.trim() !== '')) {
    throw new SourceFailure(
      'NO_TEXT',
      `"${input.filename}" has no extractable text (for example a scanned image); nothing could be indexed.`,
    );
  }
  return result;
}

async function textPages(
  input: { filename: string; mimeType: string; bytes: Uint8Array },
  limits: SourceLimits,
): Promise<SourcePages> {
  try {
    // Only text types come here: the attachment limits that matter are the source's own.
    const [extracted] = await extractAttachments(
      [{ filename: input.filename, mimeType: input.mimeType, data: toBase64(input.bytes) }],
      {
        ...DEFAULT_CONFIG.attachments,
        maxCount: 1,
        maxBytes: limits.maxBytes,
        maxTotalBytes: limits.maxBytes,
        maxChars: limits.maxChars,
        // A source is chunked by its own ingestion, not as an attachment.
        maxIndexedChars: 0,
      },
    );
    return { pages: [extracted?.text ?? ''], paged: false, pageCount: null };
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      const code = error.appCode === 'UNSUPPORTED_MEDIA_TYPE' ? 'UNSUPPORTED' : 'UNREADABLE';
      throw new SourceFailure(code, error.message.replace(/^Attachment /, 'Source '));
    }
    throw error;
  }
}
