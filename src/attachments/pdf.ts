import { AppError } from '../errors';

export type PdfText = { text: string; pageCount: number; pagesRead: number };

/**
 * Text of a PDF's first `maxPages` pages. unpdf (pdf.js) is loaded only here, on the first PDF an
 * isolate sees, so requests without PDFs never pay for its ~3 MB. Pages are read one at a time to
 * keep memory flat, and reading stops at the page limit, or once more than `stopAfterChars`
 * characters were read, to stay inside Workers' CPU budget. `pagesRead < pageCount` then.
 */
export async function extractPdfText(
  filename: string,
  bytes: Uint8Array,
  options: { maxPages: number; stopAfterChars?: number; password?: string | undefined },
): Promise<PdfText> {
  const { getDocumentProxy } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // getDocumentProxy detaches the buffer it is given: pass a copy.
    pdf = await getDocumentProxy(bytes.slice(), {
      verbosity: 0,
      ...(options.password !== undefined ? { password: options.password } : {}),
    });
  } catch (error) {
    throw pdfError(filename, error);
  }
  try {
    const lastPage = Math.min(pdf.numPages, options.maxPages);
    const stopAfter = options.stopAfterChars ?? Number.POSITIVE_INFINITY;
    const pages: string[] = [];
    let chars = 0;
    let pagesRead = 0;
    while (pagesRead < lastPage && chars <= stopAfter) {
      const page = await pdf.getPage(pagesRead + 1);
      const content = await page.getTextContent();
      const text = content.items
        .map((item) => ('str' in item && item.str != null ? item.str + (item.hasEOL ? '\n' : '') : ''))
        .join('');
      page.cleanup();
      pages.push(text);
      chars += text.length + 1;
      pagesRead++;
    }
    // The same whitespace normalisation as unpdf's extractText({ mergePages: true }).
    const text = pages
      .join('\n')
      .replace(/[^\S\n]+/g, ' ')
      .replace(/ ?\n ?/g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
    return { text, pageCount: pdf.numPages, pagesRead };
  } catch (error) {
    throw pdfError(filename, error);
  } finally {
    await pdf.loadingTask.destroy();
  }
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
