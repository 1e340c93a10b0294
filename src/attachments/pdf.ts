import { AppError } from '../errors';
import { attachBudget, installPdfBudgetHook, PdfBudget } from './pdf-budget';
import { scanPdfStreams } from './pdf-streams';

export type PdfText = {
  text: string;
  /** The same text page by page (page 1 first), so a large attachment can be chunked with its pages. */
  pages: string[];
  pageCount: number;
  pagesRead: number;
  budgetReached: boolean;
};

/** The same whitespace normalisation as unpdf's extractText({ mergePages: true }). */
function normalise(text: string): string {
  return text
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export type PdfOptions = {
  maxPages: number;
  /** Reading stops once more than this many characters were read (they would be cut anyway). */
  stopAfterChars?: number;
  /**
   * A budget spent on the first page refuses the file, unless at least this many characters were
   * read by then (what is stored is all there): reading on past the stored text, for the chunks of
   * retrieval, must not turn an accepted document into a refused one.
   */
  acceptAfterChars?: number;
  password?: string | undefined;
  /** Decoded bytes allowed per stream and per file (pdf-streams.ts). */
  maxStreamBytes: number;
  maxDecodedBytes: number;
  /** Content stream operators and wall-clock milliseconds allowed per file (pdf-budget.ts). */
  maxOperations: number;
  maxMs: number;
};

/**
 * Text of a PDF's first `maxPages` pages, with bounded work whatever the file contains:
 *  1. its streams' decompressed sizes are measured first (capped), and a file past the limits is
 *     refused before pdf.js parses it;
 *  2. inside pdf.js, every content stream operator and every pause counts against a budget that
 *     also gives other requests a turn (pdf-budget.ts). Spent on the first page, the file is
 *     refused (422); spent later, or once text passes `stopAfterChars`, reading stops and the pages
 *     read are kept (`budgetReached`: the attachment is marked truncated).
 * unpdf (pdf.js) is loaded only here, on the first PDF an isolate sees, so requests without PDFs
 * never pay for its ~3 MB. `bytes` is handed to pdf.js without a copy and is detached afterwards.
 */
export async function extractPdfText(filename: string, bytes: Uint8Array, options: PdfOptions): Promise<PdfText> {
  const scan = await scanPdfStreams(bytes, {
    maxStreamBytes: options.maxStreamBytes,
    maxTotalBytes: options.maxDecodedBytes,
  });
  if (!scan.ok) {
    throw new AppError('UNPROCESSABLE', `Attachment "${filename}" is refused: ${scan.reason}.`);
  }

  const { getDocumentProxy, getResolvedPDFJS } = await import('unpdf');
  const pdfjs = await getResolvedPDFJS();
  installPdfBudgetHook();
  const stopAfter = options.stopAfterChars ?? Number.POSITIVE_INFINITY;
  const budget = new PdfBudget({
    maxOperations: options.maxOperations,
    maxMs: options.maxMs,
    stopAfterChars: stopAfter,
  });
  // A worker of our own (in this thread), so the budget can be tied to its port.
  const worker = new pdfjs.PDFWorker();
  try {
    await worker.promise;
    attachBudget(worker.port as object, budget);
    let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
    try {
      pdf = await getDocumentProxy(bytes, {
        worker,
        verbosity: 0,
        ...(options.password !== undefined ? { password: options.password } : {}),
      });
    } catch (error) {
      throw pdfError(filename, error);
    }
    try {
      const { pages, pagesRead } = await readPages(pdf, filename, options, budget);
      return {
        text: normalise(pages.join('\n')),
        pages: pages.map(normalise),
        pageCount: pdf.numPages,
        pagesRead,
        budgetReached: budget.exceeded !== undefined,
      };
    } catch (error) {
      throw error instanceof AppError ? error : pdfError(filename, error);
    } finally {
      await pdf.loadingTask.destroy();
    }
  } finally {
    worker.destroy();
  }
}

type PdfDocument = Awaited<ReturnType<typeof import('unpdf').getDocumentProxy>>;

/**
 * The raw text of the first `maxPages` pages, until the budget is spent. Spent on the first page:
 * nothing worth keeping, and most likely a file built to do this (refused). Spent later: the pages
 * read are kept and the attachment is marked truncated.
 */
async function readPages(pdf: PdfDocument, filename: string, options: PdfOptions, budget: PdfBudget) {
  const lastPage = Math.min(pdf.numPages, options.maxPages);
  const pages: string[] = [];
  let pagesRead = 0;
  while (pagesRead < lastPage && budget.exceeded === undefined) {
    const page = await pdf.getPage(pagesRead + 1);
    // pdf.js ignores errors inside a page by default: a spent budget ends the page with what it had.
    const content = await page.getTextContent();
    const text = content.items
      .map((item) => ('str' in item && item.str != null ? item.str + (item.hasEOL ? '\n' : '') : ''))
      .join('');
    page.cleanup();
    pages.push(text);
    pagesRead++;
  }
  const enough =
    pages.reduce((n, page) => n + page.length, 0) >= (options.acceptAfterChars ?? Number.POSITIVE_INFINITY);
  if ((budget.exceeded === 'operations' || budget.exceeded === 'time') && pagesRead <= 1 && !enough) {
    throw new AppError(
      'UNPROCESSABLE',
      budget.exceeded === 'time'
        ? `Attachment "${filename}" is refused: reading its first page took longer than ${options.maxMs} ms.`
        : `Attachment "${filename}" is refused: its first page needs more than ${options.maxOperations} drawing operations to read (nested forms or an oversized content stream).`,
    );
  }
  return { pages, pagesRead };
}

function pdfError(filename: string, error: unknown): AppError {
  const name = (error as { name?: string } | null)?.name;
  const code = (error as { code?: number } | null)?.code;
  if (name === 'PasswordException') {
    const reason =
      code === 2
        ? 'the password given for it is wrong'
        : 'it is password-protected; send its password in the attachment\'s "password" field';
    return new AppError('UNPROCESSABLE', `Attachment "${filename}" cannot be read: ${reason}.`, { cause: error });
  }
  return new AppError(
    'UNPROCESSABLE',
    `Attachment "${filename}" is a damaged or invalid PDF and its text cannot be extracted.`,
    { cause: error },
  );
}
