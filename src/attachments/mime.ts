export type Kind = 'pdf' | 'docx' | 'text' | 'markdown' | 'csv' | 'json' | 'html';

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
