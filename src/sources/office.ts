import { extractDocx } from './docx';
import { extractPptx } from './pptx';
import { extractXlsx } from './xlsx';

/** The Office formats read by our own bounded readers (src/sources/zip.ts), for sources and attachments alike. */
export type OfficeKind = 'docx' | 'xlsx' | 'pptx';

export function isOfficeKind(kind: string | undefined): kind is OfficeKind {
  return kind === 'docx' || kind === 'xlsx' || kind === 'pptx';
}

/** Text of an Office file; `chars` is how many characters the caller keeps (it sets the inflate budget). */
export function extractOffice(kind: OfficeKind, filename: string, bytes: Uint8Array, chars: number): Promise<string> {
  if (kind === 'xlsx') return extractXlsx(filename, bytes, chars);
  if (kind === 'pptx') return extractPptx(filename, bytes, chars);
  return extractDocx(filename, bytes, chars);
}
