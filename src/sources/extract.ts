import { extractAttachments } from '../attachments/extract';
import { kindOf } from '../attachments/mime';
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
 * Page-by-page text of a PDF. src/attachments/pdf.ts joins pages into one text, but a source needs
 * each page's text to cite it, so pages are read here with the same library and the same error
 * classes. One page at a time (memory stays flat); reading stops at `maxPages` or `maxChars`.
 */
async function pdfPages(filename: string, bytes: Uint8Array, limits: SourceLimits): Promise<SourcePages> {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  if (!head.includes('%PDF-')) {
    throw new SourceFailure('UNREADABLE', `"${filename}" is declared application/pdf but its content is not a PDF.`);
  }
  const { getDocumentProxy } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(bytes.slice(), { verbosity: 0 });
  } catch (error) {
    throw pdfFailure(filename, error);
  }
  try {
    const last = Math.min(pdf.numPages, limits.maxPages);
    const pages: string[] = [];
    let chars = 0;
    for (let n = 1; n <= last && chars <= limits.maxChars; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      const text = content.items
        .map((item) => ('str' in item && item.str != null ? item.str + (item.hasEOL ? '\n' : '') : ''))
        .join('')
        .replace(CONTROL, '')
        .replace(/[^\S\n]+/g, ' ')
        .replace(/ ?\n ?/g, '\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim()
        .toWellFormed();
      page.cleanup();
      pages.push(text);
      chars += text.length;
    }
    return { pages, paged: true, pageCount: pdf.numPages };
  } catch (error) {
    throw pdfFailure(filename, error);
  } finally {
    await pdf.loadingTask.destroy();
  }
}

function pdfFailure(filename: string, error: unknown): SourceFailure {
  if ((error as { name?: string } | null)?.name === 'PasswordException') {
    return new SourceFailure(
      'PASSWORD_PROTECTED',
      `"${filename}" is password-protected; knowledge sources must be readable without a password.`,
    );
  }
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
